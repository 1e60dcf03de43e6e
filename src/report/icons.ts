// Status icons as inline SVG: an emoji glyph (✅ ❌ ⏹) renders as an empty box where no emoji font
// is installed (Debian's Chromium without fonts-noto-color-emoji), an inline SVG everywhere. Each
// icon carries its word as <title> and aria-label, so it reads without the picture too.
import { esc } from './xml.js';

export type IconName = 'succeeded' | 'failed' | 'stopped' | 'running' | 'pending' | 'skipped' | 'waiting';

/** 16×16 paths drawn in currentColor on a coloured disc; no font needed. */
const SHAPES: Record<IconName, { fill: string; path: string }> = {
  succeeded: {
    fill: '#2f855a',
    path: '<path d="M4.5 8.2l2.3 2.3 4.7-5" fill="none" stroke="#fff" stroke-width="1.8"/>',
  },
  failed: { fill: '#c53030', path: '<path d="M5 5l6 6M11 5l-6 6" stroke="#fff" stroke-width="1.8"/>' },
  stopped: { fill: '#4a5568', path: '<rect x="5" y="5" width="6" height="6" fill="#fff"/>' },
  running: { fill: '#2b6cb0', path: '<path d="M6 4.5v7l5.5-3.5z" fill="#fff"/>' },
  pending: { fill: '#a0aec0', path: '<circle cx="8" cy="8" r="2" fill="#fff"/>' },
  skipped: {
    fill: '#a0aec0',
    path: '<path d="M4.5 8h6M8.5 5.5L11 8l-2.5 2.5" fill="none" stroke="#fff" stroke-width="1.6"/>',
  },
  waiting: {
    fill: '#805ad5',
    path: '<path d="M8 4.5V8l2.5 1.5" fill="none" stroke="#fff" stroke-width="1.6"/>',
  },
};

/** The icon of a run's or a step's status (report and web UI statuses alike). */
export function iconOf(status: string): IconName {
  switch (status) {
    case 'succeeded':
    case 'pass':
      return 'succeeded';
    case 'failed':
    case 'fail':
      return 'failed';
    case 'interrupted':
    case 'aborted':
    case 'stopped':
      return 'stopped';
    case 'running':
      return 'running';
    case 'skipped':
      return 'skipped';
    case 'waiting':
      return 'waiting';
    default:
      return 'pending';
  }
}

/** An inline SVG icon for `status`, labelled with `label` (default: the status itself). */
export function statusIcon(status: string, label = status): string {
  const { fill, path } = SHAPES[iconOf(status)];
  return `<svg class="icon ${iconOf(status)}" width="16" height="16" viewBox="0 0 16 16" role="img" aria-label="${esc(label)}"><title>${esc(label)}</title><circle cx="8" cy="8" r="8" fill="${fill}"/>${path}</svg>`;
}
