// verify check router-config: the lab's router (configured to fail fast) gives no warning; an
// HAProxy started here with the settings that held clients 2-3 s (issue 15) gets each one listed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The registry first: runbook/targets.ts imports it (see route.test.ts).
import '../../src/actions/registry.js';
import { after, before, describe, test } from 'node:test';
import { verify } from '../../src/actions/verify.js';
import { runCommand } from '../../src/compose/commands.js';
import type { RunEvent } from '../../src/engine/events.js';
import { StepFailure } from '../../src/errors.js';
import type { Environment } from '../../src/schema/inventory.js';
import { requireLab } from '../helpers/lab.js';
import { actionContext, failureOf } from './context.js';

/** Slot 24's loopback range (test/helpers/private-lab.ts): nothing else binds it. */
const LISTEN = { host: '127.0.0.249', port: 16649 };

/** The lab's old defaults plus what many teams run: HAProxy's default retries, a long connect timeout. */
const badConfig = (socket: string) => `
global
  stats socket ${socket} mode 600 level admin
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
  default-server inter 2s fall 3 rise 2
frontend pg_write
  bind ${LISTEN.host}:${LISTEN.port}
  default_backend pg
backend pg
  server primary 127.0.0.248:16648 check
  server unchecked 127.0.0.247:16648
`;

function routerEnv(base: Partial<Environment>, socket: string): Environment {
  return {
    label: 'staging',
    primary: 'pg1',
    replicas: [],
    postgres: { database: 'app', user: 'app', nodes: { pg1: { host: '127.0.0.248', port: 16648 } } },
    ...base,
    routers: { bad: { type: 'haproxy', socket, backend: 'pg', server: 'primary', listen: LISTEN } },
  } as Environment;
}

describe('verify router-config', () => {
  test('the lab router fails fast: no warning, settings read from the runtime API and the config', async (t) => {
    const lab = requireLab(t);
    if (!lab) return;
    const warned: string[] = [];
    const ctx = actionContext(lab.environment, { warn: (m) => warned.push(m) });
    const out = await verify.run!(ctx, { check: 'router-config', router: 'main', strict: true });
    assert.ok('warnings' in out);
    assert.deepEqual(out.warnings, []);
    assert.deepEqual(warned, []);
    assert.equal(out.retries, 0);
    assert.equal(out.timeoutConnectMs, 1000);
    assert.match(out.configFiles[0] ?? '', /haproxy\.cfg$/);
    const [primary] = out.servers;
    assert.equal(primary?.check, true);
    assert.equal(primary?.fall, 2);
    assert.equal(primary?.observe, 'layer4');
    assert.equal(primary?.onMarkedDown, 'shutdown-sessions');
    t.diagnostic(JSON.stringify(out));
  });

  describe('an HAProxy with settings that make clients hang', () => {
    let dir = '';
    let socket = '';
    let proxy: ReturnType<typeof spawn> | undefined;
    let exited: Promise<unknown> = Promise.resolve();
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'drillbook-router-config-'));
      socket = join(dir, 'admin.sock');
      const cfg = join(dir, 'haproxy.cfg');
      writeFileSync(cfg, badConfig(socket));
      proxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: 'ignore' });
      exited = new Promise((r) => proxy!.on('exit', r));
      for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(existsSync(socket), 'haproxy started with its runtime API');
    });
    after(async () => {
      proxy?.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    });

    test('each hanging setting is a warning (output and warning log), and the step still passes', async () => {
      const warned: string[] = [];
      const ctx = actionContext(routerEnv({}, socket), { warn: (m) => warned.push(m) });
      const out = await verify.run!(ctx, { check: 'router-config', router: 'bad' });
      assert.ok('warnings' in out);
      const expected = [
        /retries 3 \(HAProxy default\): a new client to a dead server waits about 3.00s .*without option redispatch/,
        /timeout connect 5.00s: a new client to a blackholed server waits 20.0s/,
        /server pg\/primary: inter 2.00s, fastinter 2.00s, fall 3: a dead server is marked DOWN only after about 6.00s/,
        /server pg\/primary: downinter 2.00s, rise 2: after a route switch it is UP only after about 4.00s/,
        /server pg\/primary: no observe layer4 with on-error mark-down/,
        /server pg\/primary: no on-marked-down shutdown-sessions/,
        /server pg\/unchecked has no health check/,
      ];
      assert.equal(out.warnings.length, expected.length, out.warnings.join('\n'));
      for (const re of expected)
        assert.ok(
          out.warnings.some((w) => re.test(w)),
          `${re}: ${out.warnings.join('\n')}`,
        );
      assert.deepEqual(
        warned,
        out.warnings.map((w) => `router bad backend pg: ${w}`),
      );
      assert.equal(out.retries, undefined, 'retries is not set in the file');
      assert.equal(out.timeoutConnectMs, 5000);
      assert.deepEqual(
        out.servers.map((s) => [s.server, s.check, s.rise, s.fall]),
        [
          ['primary', true, 2, 3],
          ['unchecked', false, 2, 3],
        ],
      );
    });

    test('through drillbook run: each warning is a warn log event of the step, and the run succeeds', async () => {
      const inventory = join(dir, 'inventory.yaml');
      const runbook = join(dir, 'check-router.yaml');
      writeFileSync(
        inventory,
        `apiVersion: drillbook/v1
kind: Inventory
environments:
  lab:
    label: staging
    primary: pg1
    replicas: []
    postgres: { database: app, user: app, nodes: { pg1: { host: 127.0.0.248, port: 16648 } } }
    routers:
      bad: { type: haproxy, socket: ${socket}, backend: pg, server: primary, listen: { host: ${LISTEN.host}, port: ${LISTEN.port} } }
`,
      );
      writeFileSync(
        runbook,
        `apiVersion: drillbook/v1
kind: Runbook
metadata: { name: check-router }
steps:
  - id: router
    kind: verify
    with: { check: router-config, router: bad }
`,
      );
      const events: RunEvent[] = [];
      const code = await runCommand(
        {
          runbookFile: runbook,
          envName: 'lab',
          inventoryFile: inventory,
          json: true,
          yes: true,
          stateDir: dir,
        },
        {
          out: (text) =>
            text
              .split('\n')
              .filter(Boolean)
              .forEach((l) => events.push(JSON.parse(l) as RunEvent)),
          err: (text) => assert.fail(text),
        },
      );
      assert.equal(code, 0);
      const warnings = events.filter((e) => e.type === 'log' && e.level === 'warn' && e.stepId === 'router');
      assert.equal(warnings.length, 7, JSON.stringify(warnings));
    });

    test('strict: the warnings fail the step', async () => {
      const ctx = actionContext(routerEnv({}, socket));
      const err = await failureOf(verify.run!(ctx, { check: 'router-config', router: 'bad', strict: true }));
      assert.ok(err instanceof StepFailure);
      assert.match(err.message, /7 setting\(s\) can make clients hang \(strict\)/);
    });

    test('a configuration that cannot be read is a warning naming what was not checked', async () => {
      const ctx = actionContext(routerEnv({}, socket));
      const out = await verify.run!(ctx, {
        check: 'router-config',
        router: 'bad',
        config: join(dir, 'missing.cfg'),
      });
      assert.ok('warnings' in out);
      assert.match(out.warnings[0] ?? '', /could not be read .*ENOENT.*NOT checked; give the file as config/);
      assert.ok(
        out.warnings.some((w) => /pg\/unchecked has no health check/.test(w)),
        'runtime findings still come',
      );
      assert.equal(out.warnings.length, 2, out.warnings.join('\n'));
    });
  });
});
