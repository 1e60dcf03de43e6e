// The live-postmaster test (src/connectors/postmaster.ts), in its shell and in-process forms, against
// real processes: one that runs in the data directory, a zombie (killed, never reaped: what a
// SIGKILLed postmaster is until PID 1 reaps it), a recycled PID and a missing pid file.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { POSTMASTER_SH, livePostmasterPid, stopPostmasterScript } from '../../src/connectors/postmaster.js';
import { shq } from '../../src/connectors/shell-quote.js';
import { localExec } from '../../src/drill/faults/node-shell.js';

const root = mkdtempSync(join(tmpdir(), 'drillbook-postmaster-'));
const started: ChildProcess[] = [];
after(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const stateOf = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2];
  } catch {
    return undefined;
  }
};

/**
 * A stand-in postmaster: a process whose working directory is `dir`, its PID in dir/postmaster.pid.
 * Its parent is a process that never reaps it (exec'd sleep), so once killed it stays a zombie.
 */
async function fakePostmaster(dir: string): Promise<number> {
  const parent = spawn(
    '/bin/sh',
    [
      '-c',
      `(cd ${shq(dir)} && exec sleep 120) & echo $! > ${shq(join(dir, 'postmaster.pid'))}; exec sleep 120`,
    ],
    {
      stdio: 'ignore',
    },
  );
  started.push(parent);
  for (let i = 0; i < 100 && !existsSync(join(dir, 'postmaster.pid')); i++) await sleep(20);
  await sleep(50);
  const pid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').trim());
  // The real file has more lines; line 1 is the PID.
  writeFileSync(join(dir, 'postmaster.pid'), `${pid}\n${dir}\n1700000000\n5432\n`);
  started.push({ kill: () => process.kill(pid, 'SIGKILL') } as unknown as ChildProcess);
  return pid;
}

const dataDir = (name: string) => {
  const d = join(root, name);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d);
  return d;
};

const shLive = async (dir: string) => {
  const r = await localExec(`${POSTMASTER_SH}\npg_live ${shq(dir)}`);
  return r.exitCode === 0 ? Number(r.stdout.trim()) : undefined;
};

describe('live postmaster', () => {
  test('a running process of the data directory is live, in the shell and in-process', async () => {
    const d = dataDir('live');
    const pid = await fakePostmaster(d);
    assert.equal(await shLive(d), pid);
    assert.equal(livePostmasterPid(d), pid);
  });

  test('a killed, unreaped postmaster (a zombie) is dead, and stopping it does not wait', async () => {
    const d = dataDir('zombie');
    const pid = await fakePostmaster(d);
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50 && stateOf(pid) !== 'Z'; i++) await sleep(20);
    assert.equal(stateOf(pid), 'Z', 'the stand-in is a zombie (kill -0 would still succeed)');
    assert.equal(await shLive(d), undefined);
    assert.equal(livePostmasterPid(d), undefined);
    const t0 = performance.now();
    const r = await localExec(stopPostmasterScript(d, 'fast'));
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'not-running');
    assert.ok(performance.now() - t0 < 3000, `stop took ${performance.now() - t0} ms`);
    assert.equal(existsSync(join(d, 'postmaster.pid')), false, 'the stale pid file is removed');
  });

  test('a PID that now belongs to a process of another directory is not the postmaster', async () => {
    const other = dataDir('other');
    const pid = await fakePostmaster(other);
    const d = dataDir('recycled');
    writeFileSync(join(d, 'postmaster.pid'), `${pid}\n`);
    assert.equal(await shLive(d), undefined);
    assert.equal(livePostmasterPid(d), undefined);
    const r = await localExec(stopPostmasterScript(d, 'immediate'));
    assert.equal(r.stdout.trim(), 'not-running');
    assert.equal(stateOf(pid), 'S', 'the other process was not signalled');
  });

  test('no pid file, or garbage in it: not running', async () => {
    const d = dataDir('none');
    assert.equal(await shLive(d), undefined);
    assert.equal(livePostmasterPid(d), undefined);
    writeFileSync(join(d, 'postmaster.pid'), 'x; touch pwned\n');
    assert.equal(await shLive(d), undefined);
    assert.equal(livePostmasterPid(d), undefined);
  });

  test('stopping a live one signals it and waits until it is gone', async () => {
    const d = dataDir('stop');
    const pid = await fakePostmaster(d);
    // smart (SIGTERM): a background job of sh ignores SIGINT and SIGQUIT, a real postmaster does not.
    const r = await localExec(stopPostmasterScript(d, 'smart', 10));
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'stopped');
    assert.notEqual(stateOf(pid), 'S');
    assert.equal(existsSync(join(d, 'postmaster.pid')), false);
  });
});
