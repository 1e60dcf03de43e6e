// The drill schema: a fault, a probe and objectives wrapped around a runbook, on staging only.
import { Type, type Static } from '@sinclair/typebox';
import { API_VERSION, Duration, Name, Strict, Target, Text, OneOf } from './common.js';

export const Fault = Strict({
  kind: OneOf([
    'kill-postgres',
    'stop-postgres',
    'freeze',
    'partition',
    'replica-lag',
    'delete-rows',
    // Patroni clusters: the node (Patroni and PostgreSQL) crashes or hangs, or DCS members die.
    'kill-node',
    'freeze-node',
    'etcd-member-loss',
    'etcd-majority-loss',
  ]),
  target: Target('node', 'the node the fault hits (primary: the steady-state primary)'),
  duration: Type.Optional(Duration('for freeze, partition and replica-lag: how long the fault lasts')),
  table: Type.Optional(Text('for delete-rows: the table whose rows go (default: the probe table)')),
  where: Type.Optional(Text('for delete-rows: SQL condition of the DELETE (default: every row)')),
  expect: Type.Optional(
    OneOf(['failover', 'no-failover', 'either'], {
      description:
        'on a Patroni cluster: whether Patroni must elect another leader (default failover); a leader change under no-failover is a false failover; either: measured, not judged',
    }),
  ),
});

export const Probe = Strict({
  via: OneOf(['router', 'dns'], { default: 'router' }),
  router: Type.Optional(Target('router')),
  record: Type.Optional(Target('record')),
  interval: Type.Optional(Duration('time between writes (default 50ms)')),
});

export const Schedule = Strict({
  cron: Type.String({ description: 'five cron fields: minute hour day-of-month month day-of-week' }),
  timezone: Type.Optional(Type.String({ description: 'IANA time zone of the cron fields (default UTC)' })),
  jitter: Type.Optional(
    Duration('start up to this long after each occurrence (the same delay on every scheduler)'),
  ),
  catchUp: Type.Optional(OneOf(['skip', 'once'], { default: 'skip' })),
  blackout: Type.Optional(
    Type.Array(
      Type.Union([
        Strict({ from: Type.String({ format: 'date' }), to: Type.String({ format: 'date' }) }),
        Strict({ cron: Type.String(), duration: Duration() }),
      ]),
    ),
  ),
});

export const Drill = Strict(
  {
    $schema: Type.Optional(Type.String()),
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal('Drill'),
    metadata: Strict({ name: Name, description: Type.Optional(Type.String()) }),
    runbook: Type.String({ description: 'path of the runbook, relative to this file' }),
    environment: Type.String({ description: 'an environment labelled staging' }),
    inventory: Type.Optional(Type.String({ description: 'inventory path (default: the local lab’s)' })),
    inputs: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    ),
    fault: Type.Optional(Fault),
    probe: Type.Optional(Probe),
    objectives: Strict({
      rto: Duration(
        'recovery time objective: until clients write again, or (data faults, restore tests) until the data is back',
      ),
      rpo: Type.Integer({ minimum: 0, description: 'acknowledged rows that may be lost' }),
    }),
    stopConditions: Type.Optional(
      Strict({
        maxDuration: Type.Optional(Duration()),
        when: Type.Optional(Text('expression over the probe: abort when true')),
      }),
    ),
    restore: Type.Optional(
      Type.String({ description: 'runbook that returns the environment to steady state' }),
    ),
    schedule: Type.Optional(Schedule),
  },
  { title: 'drillbook Drill', $id: 'https://drillbook.dev/schemas/drill.schema.json' },
);

export type Drill = Static<typeof Drill>;
export type Schedule = Static<typeof Schedule>;
