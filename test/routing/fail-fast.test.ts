// Routing that fails fast, measured with an independent libpq client (psycopg2, not node-pg):
// after the primary's postmaster is SIGKILLed, a new connection through the lab's HAProxy must fail
// at once (the old config held it ~3 s while HAProxy retried the dead server), and the writer's
// longest gap must end right after the route points at the promoted replica.
import assert from 'node:assert/strict';
// The registry first: runbook/targets.ts imports it (see route.test.ts).
import '../../src/actions/registry.js';
import { describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { fence } from '../../src/actions/fence.js';
import { promote } from '../../src/actions/promote.js';
import { route } from '../../src/actions/route.js';
import { HaproxyRuntime } from '../../src/connectors/haproxy.js';
import { livePostmasterPid } from '../../src/connectors/postmaster.js';
import type { Environment } from '../../src/schema/inventory.js';
import {
  prepareConnectAttempt,
  startIndependentClient,
  type IndependentClient,
  type IndependentClientOptions,
} from '../helpers/independent-client.js';
import { readSecret } from '../helpers/lab.js';
import { privateLab } from '../helpers/private-lab.js';
import { actionContext } from './context.js';

/** A new connection that fails through the router must fail within this (it hung 3 s before). */
const FAIL_FAST_MS = 250;
/**
 * The writer's longest gap: about the fault-to-route time (0.5-1.4 s here, on a busy machine) and
 * never more than 0.3 s after it; the old configuration gave 3.1 s, ending 1.4 s after the route.
 */
const MAX_GAP_MS = 2000;
/** When the "runbook" starts to promote after the fault (issue 15: it has routed ~0.45 s after). */
const RUNBOOK_DELAY_MS = 250;

function clientOptions(env: Environment, connectTimeoutS: number): IndependentClientOptions {
  return {
    ...env.routers!.main!.listen,
    database: env.postgres.database,
    user: env.postgres.user!,
    password: readSecret(env.postgres.password),
    connectTimeoutS,
  };
}

describe('routing that fails fast (lab HAProxy, private lab)', () => {
  const lab = privateLab(24);

  test('after a SIGKILL of the primary, new clients fail at once and the writers are back right after the route switch', async (t) => {
    const l = lab(t);
    if (!l) return;
    const env = l.environment;
    const writers: IndependentClient[] = [];
    try {
      // Two writers as applications set them: libpq takes connect_timeout=1 as 2 s.
      writers.push(await startIndependentClient({ ...clientOptions(env, 5), table: 'writer_ct5' }));
      writers.push(await startIndependentClient({ ...clientOptions(env, 1), table: 'writer_ct1' }));
      await new Promise((r) => setTimeout(r, 500));

      const [new5, new1] = await Promise.all([
        prepareConnectAttempt(clientOptions(env, 5)),
        prepareConnectAttempt(clientOptions(env, 1)),
      ]);
      const pid = livePostmasterPid(env.postgres.nodes.pg1!.dataDir!);
      assert.ok(pid, 'pg1 has a live postmaster');
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      // Both new clients try at once, while the runbook below promotes and routes.
      const attempts = Promise.all([new5.attempt(), new1.attempt()]);
      await new Promise((r) => setTimeout(r, Math.max(0, killedAt + RUNBOOK_DELAY_MS - Date.now())));
      const ctx = actionContext(env);
      const promoteAt = Date.now();
      const promoted = await promote.run!(ctx, { target: 'pg2' });
      const routeAt = Date.now();
      const routed = await route.run!(ctx, { router: 'main', to: 'pg2' });
      const routedAt = Date.now();
      t.diagnostic(
        `promote from kill+${promoteAt - killedAt} ms: ${routeAt - promoteAt} ms (promotion ${promoted.promotionMs} ms), ` +
          `route ${routedAt - routeAt} ms (switch ${routed.switchMs} ms)`,
      );
      const [ct5, ct1] = await attempts;
      t.diagnostic(`new connection after the kill: connect_timeout=5 ${ct5.ms} ms, =1 ${ct1.ms} ms`);
      for (const a of [ct5, ct1]) {
        assert.equal(a.ok, false, 'nothing can take writes yet');
        assert.ok(a.ms < FAIL_FAST_MS, `a new connection failed after ${a.ms} ms (${a.error}), not at once`);
      }

      const after = await (await prepareConnectAttempt(clientOptions(env, 5))).attempt();
      assert.equal(after.ok, true, `a new client connects once the route points at pg2: ${after.error}`);
      await new Promise((r) => setTimeout(r, 1000));

      const [r5, r1] = await Promise.all(writers.splice(0).map((w) => w.stop()));
      for (const [name, r] of [
        ['connect_timeout=5', r5!],
        ['connect_timeout=1', r1!],
      ] as const) {
        const outage = r.gaps.find((g) => g.startMs <= killedAt + 100 && g.endMs >= killedAt);
        t.diagnostic(
          `${name}: longest gap ${r.longestGapMs} ms, kill->route ${routedAt - killedAt} ms, ` +
            `back ${outage ? outage.endMs - routedAt : '?'} ms after the route, ${r.failed} failed attempts`,
        );
        assert.ok(outage, `${name}: the writer saw the outage`);
        assert.equal(r.ackedAt.length, r.acked, `${name}: every acknowledged write is listed`);
        const between = r.ackedAt.slice(1).map((at, i) => at - r.ackedAt[i]!);
        assert.ok(Math.abs(Math.max(...between) - r.longestGapMs) <= 1, `${name}: gaps agree with the acks`);
        assert.ok(r.longestGapMs < MAX_GAP_MS, `${name}: longest gap ${r.longestGapMs} ms`);
        assert.ok(
          r.longestGapMs < routedAt - killedAt + 300,
          `${name}: longest gap ${r.longestGapMs} ms, though the route switched ${routedAt - killedAt} ms after the kill`,
        );
        assert.ok(
          outage.endMs - routedAt < 300,
          `${name}: back ${outage.endMs - routedAt} ms after the route switch`,
        );
      }
    } finally {
      await Promise.all(writers.map((w) => w.stop().catch(() => undefined)));
    }
  });

  // Runs on the lab the test above left: pg2 is the primary behind the router.
  test('fence stop with a router disables the slot too: with the old primary blackholed, a new client is refused at once', async (t) => {
    const l = lab(t);
    if (!l) return;
    const env = l.environment;
    const pg2 = env.postgres.nodes.pg2!;
    const router = env.routers!.main!;
    assert.equal(
      (await new HaproxyRuntime(router.socket).serverState(router.backend, router.server)).addr,
      pg2.host,
    );
    // A partitioned primary: its PostgreSQL port drops packets (SSH still answers, so stop works).
    const rule = ['INPUT', '-d', pg2.host, '-p', 'tcp', '--dport', String(pg2.port), '-j', 'DROP'];
    execFileSync('iptables', ['-I', ...rule]);
    try {
      const out = await fence.run!(actionContext(env), {
        target: 'pg2',
        method: 'stop',
        router: 'main',
        checkTimeout: '300ms',
      });
      assert.deepEqual(out.slots, ['pg/primary']);
      assert.match(out.action, /stopped \(immediate\); disabled pg\/primary in router main/);
      const slot = await new HaproxyRuntime(router.socket).serverState(router.backend, router.server);
      assert.equal(slot.admin, 'maint');
      // Without the disabled slot, HAProxy would try the blackholed node for timeout connect (1 s).
      const attempt = await (await prepareConnectAttempt(clientOptions(env, 5))).attempt();
      t.diagnostic(`new connection through the router after the fence: ${attempt.ms} ms (${attempt.error})`);
      assert.equal(attempt.ok, false);
      assert.ok(attempt.ms < FAIL_FAST_MS, `failed after ${attempt.ms} ms, not at once`);
    } finally {
      execFileSync('iptables', ['-D', ...rule]);
    }
  });
});
