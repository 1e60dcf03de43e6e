// The web UI's page shell: the reports' stylesheet plus the UI's own rules, a navigation bar with
// inline SVG icons, and a Content-Security-Policy that allows only this page's own inline script
// (by nonce) and connections back to serve: no CDN, no font, no external asset of any kind.
import { randomBytes } from 'node:crypto';
import { REPORT_CSS } from '../../report/html.js';
import { esc } from '../../report/xml.js';
import type { FastifyReply } from 'fastify';
import type { WebUser } from './auth.js';

const UI_CSS = `
body{max-width:1200px}
nav{display:flex;gap:18px;align-items:center;border-bottom:1px solid #e2e8f0;padding-bottom:8px;margin-bottom:16px}
nav a{color:#2d3748;text-decoration:none;display:inline-flex;gap:4px;align-items:center}nav .who{margin-left:auto;color:#4a5568}
nav svg{width:16px;height:16px}
form.filters{display:flex;gap:8px;flex-wrap:wrap;align-items:end;margin:8px 0}form.filters label{display:flex;flex-direction:column;font-size:12px;color:#4a5568}
button{font:inherit;padding:3px 12px;border-radius:4px;border:1px solid #a0aec0;background:#f7fafc;cursor:pointer}
button.approve{background:#2f855a;color:#fff;border-color:#2f855a}button.reject{background:#c53030;color:#fff;border-color:#c53030}
.steps{list-style:none;padding:0}.steps>li{border:1px solid #e2e8f0;border-radius:6px;margin:6px 0;padding:6px 10px}
.steps>li.running{border-color:#2b6cb0}.steps>li.failed{border-color:#c53030}.steps>li.over .timer{color:#dd6b20;font-weight:600}
.step-head{display:flex;gap:8px;align-items:center}.step-head .timer{margin-left:auto;font-variant-numeric:tabular-nums}
.meter{height:4px;background:#edf2f7;border-radius:2px;margin:4px 0}.meter i{display:block;width:0;height:4px;background:#2b6cb0;border-radius:2px;max-width:100%}
.over .meter i{background:#dd6b20}.logs{margin:4px 0 0;padding-left:18px;font:12px ui-monospace,Menlo,monospace;white-space:pre-wrap;color:#2d3748}
.logs .warn{color:#c05621}.approval{border:2px solid #805ad5;border-radius:6px;padding:8px 12px;margin:8px 0}
.approval p{margin:0 0 6px}.answer{margin-left:8px;font-weight:600}.notice{color:#4a5568}
`;

/** Navigation icons: simple line drawings in currentColor. */
const NAV_ICONS = {
  runs: '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M2 4h12M2 8h12M2 12h12" stroke="currentColor" stroke-width="1.6"/></svg>',
  history:
    '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M1.5 13l4-5 3 3 5.5-7" fill="none" stroke="currentColor" stroke-width="1.6"/></svg>',
  schedule:
    '<svg viewBox="0 0 16 16" aria-hidden="true"><rect x="2" y="3" width="12" height="11" rx="1" fill="none" stroke="currentColor" stroke-width="1.4"/><path d="M2 6.5h12M5 1.5v3M11 1.5v3" stroke="currentColor" stroke-width="1.4"/></svg>',
};

export interface Rendered {
  html: string;
  /** The Content-Security-Policy header that goes with it. */
  csp: string;
}

/** A whole page; `script` (trusted, written by us) runs under the page's nonce. */
export function uiPage(o: {
  title: string;
  user?: WebUser;
  body: string;
  script?: string;
  csrf?: string;
}): Rendered {
  const nonce = randomBytes(16).toString('base64');
  const nav = o.user
    ? `<nav><a href="/">${NAV_ICONS.runs}Runs</a><a href="/history">${NAV_ICONS.history}History</a><a href="/schedule">${NAV_ICONS.schedule}Schedule</a><span class="who">${esc(o.user.name ?? o.user.id)}</span><form method="post" action="/logout"><button type="submit">Sign out</button></form></nav>`
    : '';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${o.csrf ? `<meta name="csrf" content="${esc(o.csrf)}">` : ''}<title>${esc(o.title)} — drillbook</title><style>${REPORT_CSS}${UI_CSS}</style></head>
<body>${nav}
${o.body}
${o.script ? `<script nonce="${nonce}">${o.script}</script>` : ''}
</body></html>
`;
  return {
    html,
    csp: `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  };
}

/** A report.html as served: its own inline CSS and SVG, never a script. */
export const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

/** Sends a page with its Content-Security-Policy, never cached (it shows live state). */
export function page(reply: FastifyReply, p: Rendered, status = 200) {
  return reply
    .code(status)
    .header('content-security-policy', p.csp)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(p.html);
}
