// `drillbook schedule export --format systemd|cron [DIR]`: the schedules as OS scheduler entries
// that run `drillbook drill FILE`, for those who prefer their OS scheduler to the daemon. What they
// cannot express (blackout windows, exactly once across machines) is said in a comment.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Output } from '../system/output.js';
import { parseDuration } from '../duration.js';
import { ExitCode, UserError } from '../errors.js';
import type { Drill } from '../schema/drill.js';
import { DEFAULT_TIMEZONE } from '../cron.js';
import { cronFields, onCalendar } from './cron-fields.js';
import { DEFAULT_DRILL_DIR, checkScheduledFiles } from './drills.js';

export type ExportFormat = 'systemd' | 'cron';

export interface ExportOptions {
  dir?: string;
  format: ExportFormat;
  /** The command that runs drillbook (default: the node and script running now). */
  drillbook: string;
  inventoryFile?: string;
  /** Where the drills run (relative paths, the default lab inventory and .drillbook resolve here). */
  workDir: string;
  /** systemd: write the unit files here instead of printing them. */
  outputDir?: string;
}

export interface ExportedFile {
  name: string;
  text: string;
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function drillCommand(file: string, o: ExportOptions): string {
  const inventory = o.inventoryFile ? ` --inventory ${quote(resolve(o.inventoryFile))}` : '';
  return `${o.drillbook} drill ${quote(resolve(file))}${inventory}`;
}

const unenforced = (drill: Drill) =>
  drill.schedule?.blackout?.length
    ? ['# Its blackout windows are NOT enforced by this entry: only "drillbook daemon" enforces them.']
    : [];

export function systemdUnits(drills: { drill: Drill; file: string }[], o: ExportOptions): ExportedFile[] {
  return drills.flatMap(({ drill, file }) => {
    const s = drill.schedule!;
    const unit = `drillbook-drill-${drill.metadata.name}`;
    const jitterS = Math.floor((parseDuration(s.jitter ?? '0') ?? 0) / 1000);
    const service = [
      '[Unit]',
      `Description=drillbook drill ${drill.metadata.name} (${resolve(file)})`,
      'Wants=network-online.target',
      'After=network-online.target',
      '',
      '[Service]',
      'Type=oneshot',
      `WorkingDirectory=${o.workDir}`,
      `ExecStart=${drillCommand(file, o)}`,
      // A drill stopped midway reverts its fault and restores: give it the time to.
      'TimeoutStopSec=15min',
    ];
    const timer = [
      '[Unit]',
      `Description=schedule of drillbook drill ${drill.metadata.name}`,
      ...unenforced(drill),
      '',
      '[Timer]',
      ...onCalendar(s.cron, s.timezone ?? DEFAULT_TIMEZONE).map((c) => `OnCalendar=${c}`),
      ...(jitterS ? [`RandomizedDelaySec=${jitterS}`] : []),
      // catchUp once: a run missed while the machine was off happens at the next boot.
      `Persistent=${s.catchUp === 'once'}`,
      `Unit=${unit}.service`,
      '',
      '[Install]',
      'WantedBy=timers.target',
    ];
    return [
      { name: `${unit}.service`, text: service.join('\n') + '\n' },
      { name: `${unit}.timer`, text: timer.join('\n') + '\n' },
    ];
  });
}

export function crontab(drills: { drill: Drill; file: string }[], o: ExportOptions): string {
  const lines = [
    '# drillbook scheduled drills (drillbook schedule export --format cron). Catch-up, blackout windows',
    '# and exactly-once across machines need "drillbook daemon". CRON_TZ is read by cronie; with a cron',
    '# that ignores it, the expressions are read in the system time zone.',
    'SHELL=/bin/sh',
  ];
  for (const { drill, file } of drills) {
    const s = drill.schedule!;
    cronFields(s.cron); // refuses croner's extensions, which cron does not read
    const jitterS = Math.floor((parseDuration(s.jitter ?? '0') ?? 0) / 1000);
    const sleep = jitterS ? `sleep $(shuf -i 0-${jitterS} -n 1) && ` : '';
    lines.push(
      '',
      `# ${drill.metadata.name} (${resolve(file)})`,
      ...unenforced(drill),
      `CRON_TZ=${s.timezone ?? DEFAULT_TIMEZONE}`,
      // An unescaped % ends a crontab command.
      `${s.cron} cd ${quote(o.workDir)} && ${sleep}${drillCommand(file, o)}`.replace(/%/g, '\\%'),
    );
  }
  return lines.join('\n') + '\n';
}

export function exportCommand(o: ExportOptions, io: Output): number {
  const results = checkScheduledFiles(o.dir ?? DEFAULT_DRILL_DIR);
  const errors = results.flatMap((r) => r.errors);
  if (errors.length) {
    for (const e of errors) io.err(e.format());
    return ExitCode.badInput;
  }
  const drills = results.map((r) => ({ drill: r.drill!, file: r.file }));
  if (!drills.length) throw new UserError(`no scheduled drill in ${o.dir ?? DEFAULT_DRILL_DIR}`);
  if (o.format === 'cron') {
    io.out(crontab(drills, o));
    return ExitCode.ok;
  }
  const units = systemdUnits(drills, o);
  if (!o.outputDir) {
    io.out(units.map((f) => `# ${f.name}\n${f.text}`).join('\n'));
    return ExitCode.ok;
  }
  mkdirSync(o.outputDir, { recursive: true });
  for (const f of units) {
    writeFileSync(join(o.outputDir, f.name), f.text);
    io.out(join(o.outputDir, f.name));
  }
  return ExitCode.ok;
}
