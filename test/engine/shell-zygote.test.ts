// The shell action forks each command from one bash per drillbook process (src/actions/shell-zygote.ts):
// a command must still see what `bash -c` would give it, and a zygote's death must cost no step.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { ofType, runInProcess, tempDir } from './helpers.js';

const outputsOf = (run: Awaited<ReturnType<typeof runInProcess>>, id: string) =>
  ofType(run.events, 'step-finished').find((e) => e.stepId === id)?.outputs as
    { exitCode: number | null; stdout: string; stderr: string } | undefined;

test('a forked command sees its env and cwd, no positional parameter, none of the zygote’s names', async (t) => {
  process.env.ZYGOTE_TEST_DROPPED = 'dropped';
  t.after(() => delete process.env.ZYGOTE_TEST_DROPPED);
  const run = await runInProcess(
    t,
    `steps:
  - id: look
    kind: shell
    with:
      cwd: /tmp
      env: { ZYGOTE_TEST_DROPPED: "it's set" }
      command: |
        echo "$# $0 $PWD"
        printenv ZYGOTE_TEST_DROPPED
        echo "\${live-none} \${out-none} \${line-none} \${q-none} $(declare -F | wc -l)"
        echo err >&2
  - { id: plain, kind: shell, with: { command: 'echo "[\${ZYGOTE_TEST_DROPPED-unset}]"' } }
`,
  );
  assert.equal(run.result.status, 'succeeded');
  assert.deepEqual(outputsOf(run, 'look'), {
    exitCode: 0,
    stdout: "0 bash /tmp\nit's set\nnone none none none 0",
    stderr: 'err',
  });
  assert.equal(outputsOf(run, 'plain')?.stdout, '[dropped]');
});

test('a stopped command is still running: its step waits for its end', async (t) => {
  const run = await runInProcess(
    t,
    `steps:
  - { id: stop, kind: shell, with: { command: 'p=$BASHPID; (sleep 0.3; kill -CONT $p) & kill -STOP $p; echo resumed' } }
`,
  );
  assert.equal(run.result.status, 'succeeded');
  assert.equal(outputsOf(run, 'stop')?.stdout, 'resumed');
});

test('a command whose monitor is killed: its step fails, it does not hang', async (t) => {
  const run = await runInProcess(
    t,
    `steps:
  - { id: orphaned, kind: shell, with: { command: "c=$BASHPID; kill -KILL $(cut -d' ' -f4 /proc/$c/stat); sleep 0.2" } }
`,
  );
  assert.equal(run.result.status, 'failed');
  assert.match(String(run.result.error), /monitor died/);
});

test('the zygote killed during a step and between steps: the step ends, the next one runs', async (t) => {
  const pidFile = join(tempDir(t), 'zygote.pid');
  // The command's parent is its monitor, whose parent is the zygote.
  const zygote = "c=$BASHPID; m=$(cut -d' ' -f4 /proc/$c/stat); cut -d' ' -f4 /proc/$m/stat";
  const run = await runInProcess(
    t,
    `steps:
  - { id: during, kind: shell, with: { command: "${zygote} > ${pidFile}; kill -KILL $(cat ${pidFile}); sleep 0.2; echo survived" } }
  - { id: find, kind: shell, with: { command: "${zygote}" } }
  - { id: kill, kind: shell, with: { command: 'kill -KILL \${{ steps.find.outputs.stdout }}' } }
  - { id: after, kind: shell, with: { command: 'echo restarted' } }
`,
  );
  assert.equal(run.result.status, 'succeeded', JSON.stringify(run.result.error));
  assert.equal(outputsOf(run, 'during')?.stdout, 'survived');
  assert.equal(outputsOf(run, 'after')?.stdout, 'restarted');
});
