// The drill's client profiles and its recovery chain as tables, shared by report.md and
// report.html so they say the same. Cells reuse the backup tables' classes for HTML.
import type { Cell } from './backup-tables.js';
import type { ReportDrill } from './schema.js';
import { dur } from './text.js';

export interface DrillTable {
  title: string;
  head: string[];
  rows: Cell[][];
}

const num = (text: string): Cell => ({ text, cls: 'num' });
/** A time relative to the fault, signed. */
const sinceFault = (ms: number) => (ms < 0 ? `-${dur(-ms)}` : `+${dur(ms)}`);

/** One row per client profile: how it connects, and what it saw in the failover and the restore. */
export function clientsTable(d: ReportDrill): DrillTable | undefined {
  if (!d.clients?.length) return undefined;
  return {
    title: 'Clients',
    head: [
      'profile',
      'route',
      'connect / write timeout',
      'reconnect after',
      'RTO',
      'longest gap',
      'failed writes',
      'RPO (rows)',
      'restore outage',
    ],
    rows: d.clients.map((c) => [
      { text: c.name === d.profile ? `${c.name} (judged)` : c.name },
      { text: c.route },
      num(`${dur(c.connectTimeoutMs)} / ${dur(c.writeTimeoutMs)}`),
      num(dur(c.reconnectDelayMs)),
      num(c.rtoMs === undefined ? 'never' : dur(c.rtoMs)),
      num(dur(c.longestGapMs)),
      num(String(c.writesFailed)),
      num(String(c.rpoRows)),
      num(
        c.restoreOutageMs === undefined
          ? '—'
          : `${dur(c.restoreOutageMs)} (${c.restoreWritesFailed ?? 0} failed)`,
      ),
    ]),
  };
}

/** The recovery chain in time order, each mark relative to the fault. */
export function chainTable(d: ReportDrill): DrillTable | undefined {
  if (!d.timeline?.length) return undefined;
  return {
    title: 'Recovery chain',
    head: ['since fault', 'at', 'what', 'profile', 'detail'],
    rows: d.timeline.map((m) => [
      num(sinceFault(m.sinceFaultMs)),
      num(dur(m.atMs)),
      { text: m.label },
      { text: m.profile ?? '' },
      { text: m.detail ?? '' },
    ]),
  };
}
