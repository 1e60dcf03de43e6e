// A schedule that cannot work is a load error at the offending value, like every other mistake.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkFile } from '../../src/runbook/check.js';
import { drillYaml } from './drill-yaml.js';

const dir = mkdtempSync(join(tmpdir(), 'drillbook-schedule-validate-'));

/** A valid drill whose schedule block is `schedule` (lines indented by two spaces). */
function drillWith(name: string, schedule: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, drillYaml(name, `schedule:\n${schedule}`));
  return file;
}

const errorsOf = (file: string) => checkFile(file).errors.map((e) => e.format().replace(`${file}:`, ''));

describe('schedule validation', () => {
  it('accepts a full schedule', () => {
    const file = drillWith(
      'ok',
      `  cron: "0 3 1 * *"
  timezone: Europe/Paris
  jitter: 10m
  catchUp: once
  blackout:
    - { from: "2026-12-20", to: "2027-01-03" }
    - { cron: "0 18 * * 5", duration: 62h }`,
    );
    assert.deepEqual(errorsOf(file), []);
  });

  it('a cron expression croner rejects, at its value', () => {
    assert.deepEqual(errorsOf(drillWith('bad-minute', '  cron: "61 3 * * *"')), [
      '9:9: invalid cron expression "61 3 * * *": Invalid value for minute: 61',
    ]);
  });

  it('six fields are refused: users write five', () => {
    const [e] = errorsOf(drillWith('six', '  cron: "*/5 * * * * *"'));
    assert.match(e!, /^9:9: invalid cron expression .*requires exactly 5 parts/);
  });

  it('a date that never comes (February 30) is an error', () => {
    assert.deepEqual(errorsOf(drillWith('feb30', '  cron: "0 3 30 2 *"')), [
      '9:9: invalid cron expression "0 3 30 2 *": it never matches a date (e.g. February 30)',
    ]);
  });

  it('an unknown time zone, with a suggestion', () => {
    assert.deepEqual(errorsOf(drillWith('tz', '  cron: "0 3 * * *"\n  timezone: Europe/Pariss')), [
      '10:13: unknown time zone "Europe/Pariss" (an IANA name such as Europe/Paris or UTC) (did you mean "Europe/Paris"?)',
    ]);
  });

  it('blackout windows: a bad cron, a zero duration, dates the wrong way round', () => {
    const file = drillWith(
      'blackout',
      `  cron: "0 3 * * *"
  blackout:
    - { from: "2027-01-03", to: "2026-12-20" }
    - cron: "0 18 * * 8"
      duration: 0s`,
    );
    assert.deepEqual(errorsOf(file), [
      '11:33: blackout ends (2026-12-20) before it begins (2027-01-03)',
      '12:13: invalid cron expression "0 18 * * 8": Invalid value for dayOfWeek: 8',
      '13:17: blackout duration must be longer than 0',
    ]);
  });

  it('an impossible calendar date in a blackout is a schema error', () => {
    const [e] = errorsOf(
      drillWith('date', '  cron: "0 3 * * *"\n  blackout: [{ from: "2026-02-30", to: "2026-03-01" }]'),
    );
    assert.match(e!, /^10:22: .*format "date"/);
  });
});
