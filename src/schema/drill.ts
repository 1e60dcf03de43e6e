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
    'split-brain',
    'aws',
    // Patroni clusters: the node (Patroni and PostgreSQL) crashes or hangs, or DCS members die.
    'kill-node',
    'freeze-node',
    'etcd-member-loss',
    'etcd-majority-loss',
  ]),
  target: Target(
    'node',
    'the node the fault hits (primary: the steady-state primary; for aws, the node whose host is the cluster endpoint)',
  ),
  action: Type.Optional(
    OneOf(['rds.failover-cluster'], { description: 'for aws: the API call that is the fault' }),
  ),
  cluster: Type.Optional(Text('for aws: the DB cluster identifier')),
  targetInstance: Type.Optional(Text('for aws: the reader to promote (default: RDS chooses)')),
  duration: Type.Optional(
    Duration('for freeze, partition, replica-lag and split-brain: how long the fault lasts'),
  ),
  table: Type.Optional(Text('for delete-rows: the table whose rows go (default: the probe table)')),
  where: Type.Optional(Text('for delete-rows: SQL condition of the DELETE (default: every row)')),
  expect: Type.Optional(
    OneOf(['failover', 'no-failover', 'either'], {
      description:
        'on a Patroni cluster: whether Patroni must elect another leader (default failover); a leader change under no-failover is a false failover; either: measured, not judged',
    }),
  ),
});

/** How a client reaches the primary: the router, the DNS name, or a list of nodes (libpq multi-host). */
export const ClientVia = Type.Union([
  OneOf(['router', 'dns']),
  Type.Array(Target('node'), {
    minItems: 1,
    description:
      'nodes tried in order, like a libpq multi-host string with target_session_attrs=read-write: the first that accepts writes',
  }),
]);

/** The profile of a drill that names none (src/drill/client-profiles.ts gives its settings). */
export const DEFAULT_CLIENT_PROFILE = 'typical';

/** One client of the drill: its own connection loop with its own timeouts (see README, "Client profiles"). */
export const ClientProfile = Strict({
  name: Name,
  connectTimeout: Type.Optional(Duration('a connection attempt is abandoned after this long (default 5s)')),
  writeTimeout: Type.Optional(Duration('a write is abandoned after this long (default 5s)')),
  reconnectDelay: Type.Optional(Duration('wait after an error before connecting again (default 200ms)')),
  via: Type.Optional(ClientVia),
});

export const Probe = Strict({
  via: Type.Optional(
    OneOf(['router', 'dns', 'node'], {
      default: 'router',
      description:
        'how clients connect by default: a router, a DNS record, or straight to a node (a cluster endpoint)',
    }),
  ),
  router: Type.Optional(Target('router')),
  node: Type.Optional(Target('node', 'for via: node, the node (its host: a managed cluster’s endpoint)')),
  record: Type.Optional(Target('record')),
  interval: Type.Optional(Duration('time between writes (default 50ms)')),
  clients: Type.Optional(
    Type.Array(ClientProfile, {
      minItems: 1,
      description: 'client profiles writing side by side (default: one "typical" application profile)',
    }),
  ),
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
    trigger: Type.Optional(
      OneOf(['immediate', 'alert', 'manual'], {
        default: 'immediate',
        description:
          'what starts the runbook after the fault: immediate (default) the drill itself; alert: the run an alert starts through the environment’s drillbook serve (the inventory’s serve), so detection is measured; manual: a person (drillbook approve RUN_ID start, or a Slack click)',
      }),
    ),
    triggerTimeout: Type.Optional(
      Duration('with trigger alert or manual: how long to wait for the runbook to start (default 1m)'),
    ),
    probe: Type.Optional(Probe),
    objectives: Strict({
      rto: Duration(
        'recovery time objective: until clients write again, or (data faults, restore tests) until the data is back',
      ),
      rpo: Type.Integer({ minimum: 0, description: 'acknowledged rows that may be lost' }),
      measure: Type.Optional(
        OneOf(['clients', 'replication'], {
          description:
            'what the RTO measures: clients (default) writing again; replication: until the replicas the fault orphaned stream again (the end of the runbook’s last repoint step), and any failed client write fails the drill',
        }),
      ),
      profile: Type.Optional(
        Type.String({ description: 'the client profile the objectives judge (default: the first)' }),
      ),
      restoreOutage: Type.Optional(
        Duration('the longest gap the judged profile may see while the restore runbook runs (failback)'),
      ),
      splitBrain: Type.Optional(
        OneOf(['forbidden', 'expected'], {
          default: 'forbidden',
          description:
            'forbidden (default): any write the old primary takes after the promotion fails the drill; expected: a drill that causes a split brain on purpose (no fencing) fails when none happened',
        }),
      ),
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
    restoreInputs: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
        description: 'inputs of the restore runbook (besides `current`, which the drill finds)',
      }),
    ),
    schedule: Type.Optional(Schedule),
  },
  { title: 'drillbook Drill', $id: 'https://drillbook.dev/schemas/drill.schema.json' },
);

export type Drill = Static<typeof Drill>;
export type Schedule = Static<typeof Schedule>;
export type ClientProfile = Static<typeof ClientProfile>;
