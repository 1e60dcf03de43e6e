// A step's command never outlives drillbook, and a resume never runs a second copy beside one that
// did (its watcher killed too, a command that left its group): it waits for it or kills it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, startCli, tempDir, writeFiles } from './helpers.js';

const lines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

/** Live (not zombie) members of a process group, from /proc. */
function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[2]) === pgid && fields[0] !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function gone(pgid: number, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(50))
    if (!groupMembers(pgid).length) return true;
  return false;
}

/** A run killed with SIGKILL while step s1 runs `command`; returns its journal's path. */
async function crashIn(t: TestContext, dir: string, runId: string, command: string) {
  const out = join(dir, 'out.txt');
  const files = writeFiles(
    dir,
    `steps:\n  - { id: s1, kind: shell, with: { command: ${JSON.stringify(command)} } }\n  - { id: s2, kind: shell, with: { command: "echo s2 >> ${out}" } }\n`,
  );
  const run = await startCli(
    t,
    ['run', files.runbook, '--env', 'test', '-i', files.inventory, '--run-id', runId],
    {
      cwd: dir,
    },
  );
  const journal = join(dir, '.drillbook/runs', runId, 'journal.jsonl');
  // The shell zygote starts the command before drillbook journals its pid: wait for both.
  const started = () =>
    existsSync(join(dir, 'pgid')) &&
    existsSync(journal) &&
    readFileSync(journal, 'utf8').includes('"child-started"');
  while (!started() && run.child.exitCode === null) await sleep(20);
  run.child.kill('SIGKILL');
  await run.done;
  return { out, journal, pgid: Number(readFileSync(join(dir, 'pgid'), 'utf8')) };
}

test('a step’s command and everything it started die with drillbook (SIGKILL)', async (t) => {
  const dir = tempDir(t);
  const marker = join(dir, 'late.txt');
  // `ps -o pgid=` of the command's shell ($BASHPID; $$ is the shell zygote's): the step's group.
  const { pgid } = await crashIn(
    t,
    dir,
    'die-1',
    `ps -o pgid= $BASHPID | tr -d ' ' > ${dir}/pgid.tmp; mv ${dir}/pgid.tmp ${dir}/pgid; sleep 30 & sleep 2; echo late >> ${marker}`,
  );
  t.after(() => groupMembers(pgid).forEach((pid) => process.kill(pid, 'SIGKILL')));
  assert.ok(await gone(pgid, 2000), `group ${pgid} still has ${groupMembers(pgid).join(', ')}`);
  await sleep(2500);
  assert.deepEqual(lines(marker), [], 'the command went on after drillbook died');
});

/**
 * A command of the crashed run that is still running, as on a machine where it could not be tied
 * to drillbook: a process group of the test's, put in the journal as the step's child.
 */
function leftRunning(t: TestContext, journal: string, command: string): number {
  const orphan = spawn('sh', ['-c', command], { detached: true, stdio: 'ignore' });
  const pid = orphan.pid!;
  t.after(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // ended
    }
  });
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  const text = readFileSync(journal, 'utf8').replace(
    /"type":"child-started","stepId":"s1","pid":\d+,"startTime":"\d*"/,
    `"type":"child-started","stepId":"s1","pid":${pid},"startTime":"${startTime}"`,
  );
  assert.match(text, new RegExp(`"pid":${pid}`), 'the journal records the step’s child');
  writeFileSync(journal, text);
  return pid;
}

/** s1 sleeps on the first run (killed there) and ends at once when retried. */
const retryable = (dir: string) =>
  `echo $BASHPID > ${dir}/pgid; if [ -f ${dir}/retry ]; then echo s1 >> ${dir}/out.txt; else sleep 30; fi`;

test('resume waits for a command the crashed run left running, or refuses; never two copies', async (t) => {
  const dir = tempDir(t);
  const { out, journal } = await crashIn(t, dir, 'orphan-1', retryable(dir));
  writeFileSync(join(dir, 'retry'), '');
  // Long enough to outlive the refused resume's start-up on a loaded machine.
  const pid = leftRunning(t, journal, `sleep 8; echo orphan >> ${out}`);

  const refused = await runCli(t, ['resume', 'orphan-1', '--retry-interrupted', '--orphan-wait', '200ms'], {
    cwd: dir,
  });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(
    refused.stderr,
    new RegExp(`step s1 \\(pid ${pid}\\) is still running after 200ms; resume refused`),
  );
  assert.deepEqual(lines(out), [], 'nothing started beside it');

  // The default: wait (bounded) for it to end, then run the step again.
  const resumed = await runCli(t, ['resume', 'orphan-1', '--retry-interrupted'], { cwd: dir });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(lines(out), ['orphan', 's1', 's2']);
});

test('resume --orphans kill stops the process group the crashed run left running first', async (t) => {
  const dir = tempDir(t);
  const { out, journal } = await crashIn(t, dir, 'orphan-2', retryable(dir));
  writeFileSync(join(dir, 'retry'), '');
  const pid = leftRunning(t, journal, `sleep 30 & sleep 30; echo orphan >> ${out}`);

  const resumed = await runCli(t, ['resume', 'orphan-2', '--retry-interrupted', '--orphans', 'kill'], {
    cwd: dir,
  });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(
    resumed.stderr + resumed.stdout,
    new RegExp(`step s1 \\(pid ${pid}\\) is still running: stopping`),
  );
  assert.deepEqual(groupMembers(pid), [], 'the whole group is gone');
  assert.deepEqual(lines(out), ['s1', 's2']);
});
