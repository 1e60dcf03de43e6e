// The Prometheus metrics of `drillbook serve`, as the text exposition format (a handful of
// counters and gauges: a client library would be more code than they are).
export interface ServeMetrics {
  alertReceived(status: string): void;
  alertOutcome(outcome: string): void;
  runStarted(): void;
  runEnded(status: string): void;
  approvalWaiting(delta: 1 | -1): void;
  /** One approval wait ended (answered or not), after `ms`. */
  approvalWaited(ms: number): void;
  approvalAnswered(outcome: string): void;
  text(): string;
}

const labelled = (name: string, label: string, counts: Map<string, number>) =>
  [...counts].map(([value, n]) => `${name}{${label}="${value}"} ${n}`);

export function serveMetrics(): ServeMetrics {
  const received = new Map<string, number>();
  const outcomes = new Map<string, number>();
  const runs = new Map<string, number>([['running', 0]]);
  const answered = new Map<string, number>();
  let waiting = 0;
  const waited = { count: 0, seconds: 0 };
  const add = (m: Map<string, number>, key: string, n = 1) => m.set(key, (m.get(key) ?? 0) + n);
  return {
    alertReceived: (status) => add(received, status),
    alertOutcome: (outcome) => add(outcomes, outcome),
    runStarted: () => add(runs, 'running'),
    runEnded(status) {
      add(runs, 'running', -1);
      add(runs, status);
    },
    approvalWaiting: (delta) => (waiting += delta),
    approvalWaited(ms) {
      waited.count += 1;
      waited.seconds += ms / 1000;
    },
    approvalAnswered: (outcome) => add(answered, outcome),
    text: () =>
      [
        '# HELP drillbook_alerts_received_total Alerts received on /hooks/alertmanager, by status.',
        '# TYPE drillbook_alerts_received_total counter',
        ...labelled('drillbook_alerts_received_total', 'status', received),
        '# HELP drillbook_alerts_total What became of each alert (started, deduplicated, busy, unmatched, ...).',
        '# TYPE drillbook_alerts_total counter',
        ...labelled('drillbook_alerts_total', 'outcome', outcomes),
        '# HELP drillbook_runs Runs started by this process, by status (running now, or how they ended).',
        '# TYPE drillbook_runs gauge',
        ...labelled('drillbook_runs', 'status', runs),
        '# HELP drillbook_approvals_waiting Approval steps waiting for a person now.',
        '# TYPE drillbook_approvals_waiting gauge',
        `drillbook_approvals_waiting ${waiting}`,
        '# HELP drillbook_approval_wait_seconds Time approval steps waited for a person (counted apart from machine time).',
        '# TYPE drillbook_approval_wait_seconds summary',
        `drillbook_approval_wait_seconds_sum ${waited.seconds}`,
        `drillbook_approval_wait_seconds_count ${waited.count}`,
        '# HELP drillbook_approval_answers_total Answers to approvals, by outcome (approved, rejected, refused, replayed).',
        '# TYPE drillbook_approval_answers_total counter',
        ...labelled('drillbook_approval_answers_total', 'outcome', answered),
        '',
      ].join('\n'),
  };
}
