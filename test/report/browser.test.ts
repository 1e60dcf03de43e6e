// report.html in a real headless Chromium (Debian's chromium): it loads offline with no console
// message, the SVG timeline and the objectives chart are in the rendered DOM, and a screenshot of
// a failed and a passed drill is kept under .drillbook/test-artifacts/.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, test, type TestContext } from 'node:test';
import { renderHtml } from '../../src/report/html.js';
import { buildReport } from '../../src/report/model.js';
import { allKindsRun } from './backup-journals.js';
import { fixtureReport } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve('.drillbook/test-artifacts');
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--enable-logging=stderr',
  '--v=0',
];

async function chromium(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(CHROMIUM, [...FLAGS, ...args], { timeout: 60_000, maxBuffer: 32 << 20 });
}

/**
 * Opens the page in headless Chromium: no console message allowed, a screenshot kept in the
 * artifacts as report-<name>.png; returns the DOM (undefined when skipped outside CI).
 */
async function openInChromium(t: TestContext, html: string, name: string): Promise<string | undefined> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true')
      throw new Error(`${CHROMIUM} is missing (scripts/install-system-deps.sh installs it)`);
    t.skip(`no ${CHROMIUM}: apt-get install -y chromium`);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'drillbook-browser-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'report.html');
  writeFileSync(file, html);
  const url = pathToFileURL(file).href;
  const dom = await chromium(['--dump-dom', url]);
  assert.doesNotMatch(dom.stderr, /CONSOLE/, 'no console message');
  mkdirSync(ARTIFACTS, { recursive: true });
  const png = join(ARTIFACTS, `report-${name}.png`);
  rmSync(png, { force: true });
  await chromium([`--screenshot=${png}`, '--window-size=1050,1500', url]);
  assert.ok(statSync(png).size > 10_000, `a screenshot at ${png}`);
  return dom.stdout;
}

describe('report.html in headless Chromium', () => {
  const fixtures = { 'drill-failed': () => fixtureReport('drill'), 'drill-passed': passedDrill } as const;
  for (const [name, report] of Object.entries(fixtures)) {
    test(`${name}: renders offline, no console messages, timeline drawn, screenshot kept`, async (t) => {
      const dom = await openInChromium(t, renderHtml(report()), name);
      if (!dom) return;
      assert.match(dom, /<svg class="timeline"/);
      assert.ok((dom.match(/class="step-bar /g) ?? []).length >= 5);
      assert.match(dom, /class="outage"/);
      assert.match(dom, /<svg class="objectives"/);
      // Status icons are inline SVG: an emoji glyph is an empty box without an emoji font.
      assert.match(dom, /<h1><svg class="icon /);
      assert.ok((dom.match(/<td><svg class="icon /g) ?? []).length >= 5);
      assert.doesNotMatch(dom, /\p{Extended_Pictographic}/u);
    });
  }
});

describe('report.html of backups in headless Chromium', () => {
  test('the Backups section renders offline with no console message; screenshot kept', async (t) => {
    const dom = await openInChromium(t, renderHtml(buildReport(allKindsRun())), 'backups');
    if (!dom) return;
    assert.match(dom, /<h2>Backups<\/h2>/);
    assert.equal((dom.match(/<h3>/g) ?? []).length, 3, 'backups, restore tests, PITR');
    assert.match(dom, /<td class="missed">failed: recovery ended/);
  });
});

/** The drill fixture as a pass: every objective met. */
function passedDrill() {
  const r = fixtureReport('drill');
  const d = r.drill!;
  d.verdict = 'pass';
  d.reasons = [];
  d.rpo = { objective: 0, actual: 0, met: true };
  d.lostSeqs = [];
  d.phases = d.phases.map((p) => ({ ...p, met: true }));
  return r;
}
