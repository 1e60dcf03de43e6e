// Exports for the OS schedulers: systemd calendars fire exactly when croner would (checked with
// systemd-analyze where it is installed), crontab lines carry the zone and the drill command.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { compileCron } from '../../src/cron.js';
import { onCalendar } from '../../src/schedule/cron-fields.js';
import { crontab, systemdUnits, type ExportOptions } from '../../src/schedule/export.js';
import type { Drill } from '../../src/schema/drill.js';

const hasSystemd = spawnSync('systemd-analyze', ['--version']).status === 0;

/** The next `n` elapses of systemd calendars after `base` (exclusive), merged in time order. */
function systemdElapses(calendars: string[], base: Date, n: number): string[] {
  const r = spawnSync(
    'systemd-analyze',
    ['calendar', `--iterations=${n}`, `--base-time=@${base.getTime() / 1000}`, ...calendars],
    { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } },
  );
  assert.equal(r.status, 0, r.stderr);
  const times = [...r.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\S+ \S+) UTC/g)].map((m) =>
    new Date(`${m[1]!.replace(' ', 'T')}Z`).toISOString(),
  );
  return [...new Set(times)].sort().slice(0, n);
}

function cronerRuns(cron: string, timezone: string, base: Date, n: number): string[] {
  const c = compileCron(cron, { timezone });
  const out: string[] = [];
  for (let at = c.next(base); at && out.length < n; at = c.next(at)) out.push(at.toISOString());
  return out;
}

const drill = (name: string, schedule: Drill['schedule']): Drill =>
  ({ metadata: { name }, schedule }) as Drill;
const options: ExportOptions = {
  format: 'systemd',
  drillbook: '/usr/bin/node /opt/drillbook/bin/drillbook.js',
  workDir: '/srv/drills',
};

describe('schedule export', () => {
  const cases: [string, string][] = [
    ['0 10 1 * *', 'Etc/UTC'],
    ['30 2 * * *', 'Europe/Paris'], // through the spring DST gap
    ['*/20 9-17 * * 1-5', 'America/New_York'],
    ['0 3 1,15 * sun', 'UTC'], // day of month OR day of week, as cron reads it
    ['15 4 * jan,jul *', 'Asia/Tokyo'],
  ];
  for (const [cron, timezone] of cases) {
    it(
      `systemd fires "${cron}" in ${timezone} when croner does`,
      { skip: !hasSystemd && 'no systemd-analyze' },
      () => {
        const base = new Date('2026-03-01T00:00:00Z');
        assert.deepEqual(
          systemdElapses(onCalendar(cron, timezone), base, 8),
          cronerRuns(cron, timezone, base, 8),
        );
      },
    );
  }

  it('refuses croner extensions a plain cron cannot read', () => {
    assert.throws(
      () => onCalendar('0 3 L * *', 'UTC'),
      /day of month "L" uses syntax a plain crontab or systemd cannot read/,
    );
    assert.throws(
      () => crontab([{ drill: drill('x', { cron: '0 3 * * 1#2' }), file: 'x.yaml' }], options),
      /"1#2"/,
    );
  });

  it('writes a timer and a service per drill', () => {
    const [service, timer] = systemdUnits(
      [
        {
          drill: drill('primary-kill', {
            cron: '0 3 1,15 * 0',
            timezone: 'Europe/Paris',
            jitter: '10m',
            catchUp: 'once',
            blackout: [{ from: '2026-12-20', to: '2027-01-03' }],
          }),
          file: '/srv/drills/primary-kill.yaml',
        },
      ],
      options,
    );
    assert.equal(service!.name, 'drillbook-drill-primary-kill.service');
    assert.match(
      service!.text,
      /^ExecStart=\/usr\/bin\/node \/opt\/drillbook\/bin\/drillbook.js drill \/srv\/drills\/primary-kill.yaml$/m,
    );
    assert.match(service!.text, /^WorkingDirectory=\/srv\/drills$/m);
    assert.equal(timer!.name, 'drillbook-drill-primary-kill.timer');
    assert.deepEqual(
      timer!.text.split('\n').filter((l) => /^(OnCalendar|RandomizedDelaySec|Persistent|Unit)=/.test(l)),
      [
        'OnCalendar=*-*-01,15 03:00:00 Europe/Paris',
        'OnCalendar=Sun *-*-* 03:00:00 Europe/Paris',
        'RandomizedDelaySec=600',
        'Persistent=true',
        'Unit=drillbook-drill-primary-kill.service',
      ],
    );
    assert.match(timer!.text, /blackout windows are NOT enforced/);
  });

  it('writes units systemd accepts', { skip: !hasSystemd && 'no systemd-analyze' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'drillbook-units-'));
    const units = systemdUnits(
      [{ drill: drill('weekly', { cron: '0 9 * * 1-5', jitter: '1m' }), file: 'w.yaml' }],
      {
        ...options,
        drillbook: `${process.execPath} ${resolve('bin/drillbook.js')}`,
        workDir: dir,
      },
    );
    for (const u of units) writeFileSync(join(dir, u.name), u.text);
    const r = spawnSync('systemd-analyze', ['verify', ...units.map((u) => join(dir, u.name))], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  it('writes crontab lines with the zone, the jitter and the drill command', () => {
    const text = crontab(
      [
        {
          drill: drill('lag', { cron: '0 10 * * 1', timezone: 'Europe/Paris', jitter: '5m' }),
          file: '/srv/drills/lag 1.yaml',
        },
      ],
      { ...options, format: 'cron', inventoryFile: '/srv/inventory.yaml' },
    );
    const lines = text.split('\n');
    assert.ok(lines.includes('CRON_TZ=Europe/Paris'));
    assert.ok(
      lines.includes(
        "0 10 * * 1 cd /srv/drills && sleep $(shuf -i 0-300 -n 1) && /usr/bin/node /opt/drillbook/bin/drillbook.js drill '/srv/drills/lag 1.yaml' --inventory /srv/inventory.yaml",
      ),
      text,
    );
  });
});
