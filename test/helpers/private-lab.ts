// A lab of one's own for destructive tests (promote, fence, rejoin, whole runbooks): the shared
// test lab must keep its topology, so these tests bring up a private one on a "slot".
//
//   describe('promote', () => {
//     const lab = privateLab(3); // before(): lab up; after(): lab down, even when a test failed
//     test('...', async (t) => {
//       const l = lab(t);
//       if (!l) return; // skipped: the lab could not start outside CI
//     });
//   });
//
// Slot s owns the loopback addresses 127.0.0.(10s+1...) (from slot 25 on, 127.0.1.(10(s-25)+1...))
// and the ports 16400+10s ... 16400+10s+9: slot 1 is the demo lab's address range and slot 2 the
// test lab's, so slots 3 and up are free.
// Slots in use: 3, 4 (database actions), 5, 6 (routing actions), 7, 8 (backups), 9 (lab shapes and
// bench/sync-modes.ts), 10 (failover bench),
// 11 (drills), 12 (drill soak bench), 13 (async RPO), 14 (backup bench), 15 (backup faults),
// 16 (backup drills), 18 (Patroni lab: etcd on ports +6/+7, Patroni's REST API on +8), 19, 20 (schedule),
// 21 (drill soak bench, development; split brain and diverge), 22 (drill soak test), 23 (client
// profiles; bench/client-rto.ts), 24 (routing that fails fast, SQL binding, the independent cross-check).
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { labDown, labUp, type LabUpOptions } from '../../src/lab/index.js';
import { LAB_ENVIRONMENT } from '../../src/lab/inventory.js';
import type { EnvContext } from '../../src/actions/types.js';
import { TEST_LAB_ENV, testLab, type TestLab } from './lab.js';

export interface PrivateLab extends TestLab {
  slot: number;
  /** The `lab` environment as actions see it (ActionContext.env). */
  env: EnvContext;
}

/** The lab options of a slot (addresses and ports that no other lab uses). */
export function slotOptions(slot: number): Omit<LabUpOptions, 'dir'> {
  if (!Number.isInteger(slot) || slot < 3 || slot > 49)
    throw new Error(`lab slot must be 3..49, got ${slot}`);
  const port = (k: number) => 16400 + slot * 10 + k;
  return {
    baseAddress: `127.0.${Math.floor(slot / 25)}.${(slot % 25) * 10}`,
    pgPort: port(0),
    sshPort: port(1),
    routerPort: port(2),
    dnsPort: port(3),
    dnsApiPort: port(4),
    slackPort: port(5),
  };
}

/** Brings a private lab up, runs fn, and always takes the lab down (and its directory away). */
export async function withPrivateLab<T>(
  slot: number,
  fn: (lab: PrivateLab) => Promise<T>,
  options: Omit<LabUpOptions, 'dir'> = {},
): Promise<T> {
  const up = await startPrivateLab(slot, options);
  try {
    return await fn(up.lab);
  } finally {
    await up.down();
  }
}

/**
 * Registers before/after hooks for a private lab in the current suite and returns a getter:
 * the lab, or (outside CI, when it could not start) undefined after t.skip(). With CI=true a lab
 * that cannot start fails the test.
 */
export function privateLab(
  slot: number,
  options: Omit<LabUpOptions, 'dir'> = {},
): (t: TestContext) => PrivateLab | undefined {
  let started: Awaited<ReturnType<typeof startPrivateLab>> | undefined;
  let failure: unknown;
  before(async () => {
    try {
      started = await startPrivateLab(slot, options);
    } catch (err) {
      failure = err;
    }
  });
  after(async () => {
    await started?.down();
  });
  return (t) => {
    if (started) return started.lab;
    const why = `private lab (slot ${slot}) did not start: ${failure instanceof Error ? failure.message : String(failure)}`;
    if (process.env.CI === 'true') throw new Error(why);
    t.skip(why);
    return undefined;
  };
}

async function startPrivateLab(slot: number, options: Omit<LabUpOptions, 'dir'>) {
  const parent = mkdtempSync(join(tmpdir(), `drillbook-slot${slot}-`));
  // As root, PostgreSQL runs as another user, who must be able to reach the lab.
  chmodSync(parent, 0o755);
  const dir = join(parent, 'lab');
  const down = async () => {
    try {
      await labDown(dir);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  };
  try {
    await labUp({ ...slotOptions(slot), ...options, dir });
  } catch (err) {
    await down();
    throw err;
  }
  const lab = labAt(dir);
  return { lab: { ...lab, slot, env: { ...lab.environment, name: LAB_ENVIRONMENT } }, down };
}

/** The TestLab view of a lab directory (testLab() reads the directory from the environment). */
function labAt(dir: string): TestLab {
  const saved = process.env[TEST_LAB_ENV];
  process.env[TEST_LAB_ENV] = dir;
  try {
    const lab = testLab();
    if (!lab) throw new Error(`${dir} has no inventory after lab up`);
    return lab;
  } finally {
    if (saved === undefined) delete process.env[TEST_LAB_ENV];
    else process.env[TEST_LAB_ENV] = saved;
  }
}
