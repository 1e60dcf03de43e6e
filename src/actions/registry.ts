// The one map of action kinds. A new kind is a new file plus one line here.
import type { ActionDefinition } from './types.js';
import { approve } from './approve.js';
import { auroraGlobal } from './aurora-global.js';
import { backup } from './backup.js';
import { diverge } from './diverge.js';
import { dns } from './dns.js';
import { fence } from './fence.js';
import { notify } from './notify.js';
import { patroni } from './patroni.js';
import { pitr } from './pitr.js';
import { promote } from './promote.js';
import { rds } from './rds.js';
import { rejoin } from './rejoin.js';
import { repoint } from './repoint.js';
import { restoreTest } from './restore-test.js';
import { route } from './route.js';
import { selectReplica } from './select-replica.js';
import { shell } from './shell.js';
import { sql } from './sql.js';
import { ssh } from './ssh.js';
import { validate } from './validate.js';
import { verify } from './verify.js';
import { wait } from './wait.js';

const all = [
  verify,
  notify,
  selectReplica,
  promote,
  fence,
  route,
  dns,
  validate,
  rejoin,
  repoint,
  sql,
  ssh,
  shell,
  wait,
  approve,
  backup,
  restoreTest,
  pitr,
  patroni,
  diverge,
  rds,
  auroraGlobal,
];

export const actions: ReadonlyMap<string, ActionDefinition> = new Map(
  all.map((a) => [a.kind, a as unknown as ActionDefinition]),
);
export const actionKinds = all.map((a) => a.kind);
