// On a terminal: listr2 with one line per step and live elapsed-vs-budget timers. The runner drives
// it through events; each task just waits for its step's outcome.
import { Listr, type ListrTaskWrapper } from 'listr2';
import { formatDuration } from '../../duration.js';
import { unhandledEvent } from '../../schema/events.js';
import type { RunEvent, StepSummary, Subscriber } from '../events.js';
import { probeStatus } from './describe.js';

type Outcome = { kind: 'done' } | { kind: 'failed'; message: string } | { kind: 'skipped'; message: string };

interface Slot {
  summary: StepSummary;
  started?: number;
  note?: string;
  /** During a drill: the probe (or the fault) live, shown on the running step. */
  drill?: string;
  settle(outcome: Outcome): void;
  outcome: Promise<Outcome>;
}

const TICK_MS = 200;

function slotOf(summary: StepSummary): Slot {
  let settle!: (o: Outcome) => void;
  const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
  return { summary, settle, outcome };
}

function title(slot: Slot): string {
  const { id, name, budgetMs } = slot.summary;
  const label = name ? `${id} — ${name}` : id;
  if (slot.started === undefined) return label;
  const elapsed = performance.now() - slot.started;
  const clock =
    budgetMs === undefined
      ? formatDuration(elapsed)
      : `${formatDuration(elapsed)} / ${formatDuration(budgetMs)}`;
  return `${label}  [${clock}${budgetMs !== undefined && elapsed > budgetMs ? ' OVER BUDGET' : ''}]${slot.note ? `  ${slot.note}` : ''}${slot.drill ? `  ${slot.drill}` : ''}`;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Task = ListrTaskWrapper<any, any, any>;

async function follow(slot: Slot, task: Task): Promise<void> {
  const timer = setInterval(() => (task.title = title(slot)), TICK_MS);
  try {
    const outcome = await slot.outcome;
    task.title = title(slot);
    if (outcome.kind === 'failed') throw new Error(outcome.message);
    if (outcome.kind === 'skipped') task.skip(`${slot.summary.id}: ${outcome.message}`);
  } finally {
    clearInterval(timer);
  }
}

export interface LiveView {
  subscriber: Subscriber;
  /** Resolves when the display has drawn the end of the run. */
  done: Promise<void>;
}

export function liveView(steps: StepSummary[], rollback: StepSummary[]): LiveView {
  const slots = new Map([...steps, ...rollback].map((s) => [s.id, slotOf(s)]));
  let startRollback!: (go: boolean) => void;
  const rollbackDecided = new Promise<boolean>((resolve) => (startRollback = resolve));
  const tasksOf = (list: StepSummary[]) =>
    list.map((s) => ({ title: s.id, task: (_: unknown, task: Task) => follow(slots.get(s.id)!, task) }));
  const tasks = [
    ...tasksOf(steps),
    ...(rollback.length
      ? [
          {
            title: 'rollback',
            task: async (_: unknown, task: Task) => {
              if (!(await rollbackDecided)) return task.skip('rollback: not needed');
              return task.newListr(tasksOf(rollback), { exitOnError: false });
            },
          },
        ]
      : []),
  ];
  const listr = new Listr(tasks, {
    concurrent: false,
    exitOnError: false,
    rendererOptions: { collapseSubtasks: false },
  });
  const done = listr.run().then(() => undefined);

  const subscriber = (e: RunEvent) => {
    const slot = 'stepId' in e && e.stepId ? slots.get(e.stepId) : undefined;
    switch (e.type) {
      case 'run-resumed':
        for (const id of e.restored)
          slots.get(id)?.settle({ kind: 'skipped', message: 'done before the interruption' });
        break;
      case 'step-started':
        if (slot) slot.started = performance.now();
        break;
      case 'step-attempt-failed':
        if (slot) slot.note = `attempt ${e.attempt} failed: ${e.error}`;
        break;
      case 'approval-requested':
        if (slot) slot.note = `waiting for approval: ${e.message} [y/N]`;
        break;
      case 'approval-granted':
      case 'approval-denied':
        if (slot) slot.note = `${e.type === 'approval-granted' ? 'approved' : 'denied'} by ${e.by}`;
        break;
      case 'step-finished':
        slot?.settle(
          e.status === 'succeeded' || e.continued
            ? { kind: 'done' }
            : { kind: 'failed', message: `${e.stepId}: ${e.error}` },
        );
        break;
      case 'step-skipped':
        slot?.settle({ kind: 'skipped', message: e.detail ?? e.reason });
        break;
      case 'rollback-started':
        startRollback(true);
        break;
      case 'fault-injected':
      case 'probe-progress':
        for (const s of slots.values())
          s.drill = e.type === 'probe-progress' ? probeStatus(e) : `⚡ ${e.kind} on ${e.node}`;
        break;
      case 'run-finished':
        startRollback(false);
        for (const s of slots.values()) s.settle({ kind: 'skipped', message: 'not run' });
        break;
      case 'run-stopped':
        startRollback(false);
        for (const s of slots.values()) s.settle({ kind: 'skipped', message: `stopped: ${e.reason}` });
        break;
      // The rest change no step's line.
      case 'run-started':
      case 'child-started':
      case 'budget-exceeded':
      case 'rto-exceeded':
      case 'log':
      case 'drill-started':
      case 'drill-triggered':
      case 'steady-state':
      case 'fault-reverted':
      case 'drill-finished':
        break;
      default:
        unhandledEvent(e);
    }
  };
  return { subscriber, done };
}
