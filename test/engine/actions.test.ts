import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { sshExec } from '../../src/connectors/ssh.js';
import type { Environment } from '../../src/schema/inventory.js';
import { requireLab } from '../helpers/lab.js';
import { ofType, processExists, runCli, runInProcess, tempDir, writeFiles } from './helpers.js';

test('a step timeout kills the hung command and everything it started (no orphan)', async (t) => {
  const pidFile = join(tempDir(t), 'pid');
  t.after(() => {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      // already gone, as it should be
    }
  });
  const { result, events } = await runInProcess(
    t,
    `steps:
  - { id: hang, kind: shell, timeout: 300ms, with: { command: "sleep 60 & echo $! > ${pidFile}; wait" } }
`,
  );
  assert.equal(result.status, 'failed');
  assert.match(ofType(events, 'step-finished')[0]!.error!, /timed out after 300ms/);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  for (let i = 0; i < 20 && processExists(pid); i++) await sleep(50);
  assert.equal(processExists(pid), false, `sleep (pid ${pid}) survived the timeout`);
});

test('run --dry-run prints the plan and what each action would do; run --json streams events', async (t) => {
  const dir = tempDir(t);
  const files = writeFiles(
    dir,
    `steps:
  - { id: q, kind: sql, with: { target: primary, query: "select $1", params: [1] } }
  - { id: sh, kind: shell, with: { command: "touch ${join(dir, 'made')}" } }
  - { id: ok, kind: approve, with: { message: "Go?" } }
`,
  );
  const dry = await runCli(t, ['run', files.runbook, '--env', 'test', '-i', files.inventory, '--dry-run'], {
    cwd: dir,
  });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /q +would run on pg1: select \$1 with parameters \[1\]/);
  assert.match(dry.stdout, /sh +would run: touch/);
  assert.match(dry.stdout, /ok +would ask the operator: "Go\?"/);
  assert.throws(() => readFileSync(join(dir, 'made')));

  const json = await runCli(
    t,
    ['run', files.runbook, '--env', 'test', '-i', files.inventory, '--json', '--approve', 'ok'],
    {
      cwd: dir,
    },
  );
  // sql cannot connect (port 1): the run fails at q, and every line is a JSON event.
  assert.equal(json.code, 1, json.stderr);
  const lines = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; formatVersion: number; runId: string });
  assert.deepEqual(
    lines.map((l) => l.type),
    ['run-started', 'step-started', 'step-finished', 'run-finished'],
  );
  // Each line says its format version and whose run it is.
  assert.ok(lines.every((l) => l.formatVersion === 1 && l.runId === lines[0]!.runId && l.runId));
});

test('sql and ssh actions against the lab; a wrong host key is refused', async (t) => {
  const lab = requireLab(t);
  if (!lab) return;
  const { result, events } = await runInProcess(
    t,
    `steps:
  - { id: q, kind: sql, with: { target: primary, query: "select $1::int + 1 as n, pg_is_in_recovery() as replica", params: [41] } }
  - { id: r, kind: sql, with: { target: pg2, query: "select pg_is_in_recovery() as replica" } }
  - { id: s, kind: ssh, with: { host: pg1, command: "echo \${{ steps.q.outputs.rows[0].n }}; exit 3", allowFailure: true } }
`,
    { inventory: lab.inventoryPath, envName: 'lab' },
  );
  assert.equal(result.status, 'succeeded', String(result.error));
  const [q, r, s] = ofType(events, 'step-finished');
  assert.deepEqual(q!.outputs, { rows: [{ n: 42, replica: false }], rowCount: 1 });
  assert.deepEqual(r!.outputs.rows, [{ replica: true }]);
  assert.deepEqual(s!.outputs, { exitCode: 3, stdout: '42', stderr: '' });
  // The lab password never reaches an event.
  const password = readFileSync(lab.environment.postgres.password!.slice('file:'.length), 'utf8').trim();
  assert.ok(!JSON.stringify(events).includes(password));

  // known_hosts pinning another key for pg1: the connection is refused.
  const dir = tempDir(t);
  const pinned = readFileSync(lab.environment.ssh!.pg1!.knownHosts, 'utf8').split('\n');
  const pg1 = lab.environment.ssh!.pg1!;
  const other = lab.environment.ssh!.pg2!;
  const wrong = join(dir, 'known_hosts');
  // pg2's key line, relabelled as pg1's address.
  const pg2Line = pinned.find((l) => l.startsWith(`[${other.host}]`))!;
  writeFileSync(wrong, pg2Line.replace(`[${other.host}]`, `[${pg1.host}]`) + '\n');
  const env: Environment = { ...lab.environment, ssh: { pg1: { ...pg1, knownHosts: wrong } } };
  const hostKeysDiffer =
    pg2Line.split(' ')[2] !== pinned.find((l) => l.startsWith(`[${pg1.host}]`))?.split(' ')[2];
  if (hostKeysDiffer) {
    await assert.rejects(
      sshExec(env, 'pg1', 'true', { secret: resolveSecretRef }),
      /host key of pg1 .* does not match .*refusing/,
    );
  } else {
    // The lab shares one host key across nodes: pin a key that belongs to no host at all.
    const fake = Buffer.alloc(51, 7).toString('base64');
    writeFileSync(wrong, `[${pg1.host}]:${pg1.port ?? 22} ssh-ed25519 ${fake}\n`);
    await assert.rejects(
      sshExec(env, 'pg1', 'true', { secret: resolveSecretRef }),
      /host key of pg1 .* does not match .*refusing/,
    );
  }
  const unknown = join(dir, 'empty_known_hosts');
  writeFileSync(unknown, '');
  await assert.rejects(
    sshExec({ ...env, ssh: { pg1: { ...pg1, knownHosts: unknown } } }, 'pg1', 'true', {
      secret: resolveSecretRef,
    }),
    /has no host key for .*refusing to connect unverified/,
  );
});
