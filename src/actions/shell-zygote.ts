// One bash per drillbook process forks every shell step's command: a fork of a running bash
// costs less than Node's fork+exec of a new bash (bench/engine-overhead.ts, issue 13).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { childEnv } from '../system/child-env.js';
import { isAlive } from '../system/processes.js';
import { shq } from '../connectors/shell-quote.js';

/**
 * Reads NUL-terminated messages "run ID CWD ENV COMMAND" (shq-quoted words; commands span lines).
 * Per command a monitor subshell (own process group) forks the command's subshell (own process
 * group: its pid is its pgid, a timeout kills what it started), says "S ID PID MONITOR", waits for
 * it with job control off (a stopped command is still running) and says "E ID STATUS". The
 * command's subshell drops job control and the zygote's names, cd's, sets its environment and evals
 * the command with no positional parameters, as `bash -c` would; stdout and stderr go to files.
 * At end of file (drillbook is gone, even by SIGKILL) the zygote TERMs the monitors still running,
 * which SIGKILL their command's group, and removes the output directory.
 * Differences from `bash -c`: `$$` is the zygote's pid (use $BASHPID for the command's own), `ps`
 * shows the zygote's command line for the command's shell, `wait`'s 128 + N is read as signal N.
 */
const ZYGOTE = `set -m
out=$1
declare -A live
run() {
  {
    q=$!
    trap '[[ $! != "$q" ]] && kill -KILL -- "-$!" 2>/dev/null; exit 1' TERM
    set -m
    ( unset -f run; unset -v live out line q; set +m; cd -- "$2" || exit; eval "$3"; eval "set --
$4" ) </dev/null >"$out/$1.1" 2>"$out/$1.2" &
    set +m
    printf 'S %s %s %s\\n' "$1" "$!" "$BASHPID"
    wait "$!"
    printf 'E %s %s\\n' "$1" "$?"
  } &
  live[$1]=$!
}
while IFS= read -r -d '' line; do
  case $line in
    'run '*) eval "$line" ;;
    'forget '*) unset "live[\${line#forget }]" ;;
  esac
done
for m in "\${live[@]}"; do kill -TERM "$m" 2>/dev/null; done
rm -rf -- "$out"`;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ZygoteRun {
  /** The command's pid, its process group's id. */
  pid: Promise<number>;
  /** Its exit status as `wait` reports it (128 + N when signal N ended it). */
  status: Promise<number>;
  /** Its output, once `status` settled; removes the files. */
  output(): { stdout: string; stderr: string };
}

/** How often a running command's monitor is checked: killed, it would never say "E". */
const MONITOR_CHECK_MS = 1000;

interface Pending {
  monitor?: number;
  started(pid: number): void;
  ended(status: number): void;
  failed(err: Error): void;
}

class Zygote {
  private readonly proc: ChildProcessByStdio<Writable, Readable, null>;
  private readonly base: NodeJS.ProcessEnv;
  private readonly pending = new Map<string, Pending>();
  private readonly gone = new Set<string>();
  private readonly checker: NodeJS.Timeout;
  private seq = 0;
  private buffer = '';
  alive = true;

  constructor(
    shellPath: string,
    readonly outDir: string,
  ) {
    // Started with no secret: a step's own secrets are exported in its command's subshell only.
    this.base = childEnv();
    // Its own session: a Ctrl-C or hang-up meant for drillbook's terminal does not reach it.
    this.proc = spawn(shellPath, ['--norc', '--noprofile', '-c', ZYGOTE, 'bash', outDir], {
      detached: true,
      env: this.base,
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    this.proc.on('error', () => this.die(new Error('cannot start the shell zygote')));
    this.proc.on('exit', () => (this.alive = false));
    this.proc.stdin.on('error', () => (this.alive = false));
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk: string) => this.read(chunk));
    // Monitors hold its stdout too: at its end, no answer can come any more.
    this.proc.stdout.on('close', () => this.die(new Error('the shell zygote died')));
    this.checker = setInterval(() => this.checkMonitors(), MONITOR_CHECK_MS).unref();
    this.proc.unref(); // it never keeps drillbook alive; drillbook's exit is its cue
    this.idle();
  }

  /** The lines exporting and unsetting what `env` changes from the zygote's environment. */
  envScript(env: NodeJS.ProcessEnv): string | undefined {
    const lines: string[] = [];
    for (const [key, value] of Object.entries(env)) {
      if (value === undefined || (this.base[key] === value && key !== 'OLDPWD')) continue;
      if (!NAME.test(key)) return undefined;
      lines.push(`export ${key}=${shq(value)}`);
    }
    // OLDPWD too: the subshell's cd set it to the zygote's directory.
    for (const key of new Set([...Object.keys(this.base), 'OLDPWD'])) {
      if (env[key] !== undefined) continue;
      if (!NAME.test(key)) return undefined;
      lines.push(`unset -v ${key}`);
    }
    return lines.join('\n');
  }

  run(cwd: string, envScript: string, command: string): ZygoteRun {
    const id = String(++this.seq);
    let started!: (pid: number) => void;
    let ended!: (status: number) => void;
    let failed!: (err: Error) => void;
    const pid = new Promise<number>((resolve, reject) => {
      started = resolve;
      failed = reject;
    });
    const status = new Promise<number>((resolve, reject) => {
      ended = resolve;
      const fail = failed;
      failed = (err) => {
        fail(err);
        reject(err);
      };
    });
    // Awaited by the step unless the zygote died first and the step started it again elsewhere.
    pid.catch(() => undefined);
    status.catch(() => undefined);
    const files = [join(this.outDir, `${id}.1`), join(this.outDir, `${id}.2`)] as const;
    const removeFiles = () => files.forEach((file) => rmSync(file, { force: true }));
    this.pending.set(id, { started, ended, failed: (err) => (removeFiles(), failed(err)) });
    this.busy();
    this.proc.stdin.write(`run ${id} ${shq(cwd)} ${shq(envScript)} ${shq(command)}\0`);
    return {
      pid,
      status,
      output: () => {
        const [stdout, stderr] = files.map((file) => readAndRemove(file));
        return { stdout: stdout!, stderr: stderr! };
      },
    };
  }

  private read(chunk: string) {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n')) >= 0) {
      const [kind, id, value, monitor] = this.buffer.slice(0, end).split(' ');
      this.buffer = this.buffer.slice(end + 1);
      const waiting = this.pending.get(id!);
      if (!waiting) continue;
      if (kind === 'S') {
        waiting.monitor = Number(monitor);
        waiting.started(Number(value));
      } else if (kind === 'E') {
        this.pending.delete(id!);
        this.gone.delete(id!);
        if (this.alive) this.proc.stdin.write(`forget ${id}\0`);
        waiting.ended(Number(value));
        if (this.pending.size === 0) this.idle();
      }
    }
  }

  /**
   * Fails the commands whose monitor is gone without a word: checked twice, MONITOR_CHECK_MS
   * apart, so that an "E" written just before its monitor's end is read first.
   */
  private checkMonitors() {
    for (const [id, waiting] of this.pending) {
      if (waiting.monitor === undefined || monitorAlive(waiting.monitor)) continue;
      if (!this.gone.has(id)) this.gone.add(id);
      else {
        this.pending.delete(id);
        this.gone.delete(id);
        waiting.failed(new Error('its monitor died'));
      }
    }
    if (this.pending.size === 0) this.idle();
  }

  private die(err: Error) {
    this.alive = false;
    clearInterval(this.checker);
    for (const waiting of this.pending.values()) waiting.failed(err);
    this.pending.clear();
    this.idle();
    // No monitor is left to write there (they held its stdout), and the zygote cannot clean up.
    rmSync(this.outDir, { recursive: true, force: true });
  }

  /** While a command runs, its answer keeps drillbook alive; otherwise nothing of the zygote does. */
  private busy() {
    (this.proc.stdout as unknown as { ref(): void }).ref();
  }
  private idle() {
    (this.proc.stdout as unknown as { unref(): void }).unref();
    (this.proc.stdin as unknown as { unref(): void }).unref();
  }
}

/** A monitor is our grandchild, never another user's process: no EPERM to tell apart. */
function monitorAlive(pid: number): boolean {
  try {
    return process.kill(pid, 0);
  } catch {
    return false;
  }
}

function readAndRemove(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  } finally {
    rmSync(file, { force: true });
  }
}

let zygote: Zygote | undefined;

const OUT_PREFIX = 'drillbook-shell-';
/** The owner's pid in an output directory's name. */
const OUT_OWNER = new RegExp(`^${OUT_PREFIX}(\\d+)-`);

/** On tmpfs where there is one: outputs never touch a disk. Private to this user. */
const defaultOutRoot = () => (process.platform === 'linux' ? '/dev/shm' : tmpdir());

/**
 * A drillbook killed outright (SIGKILL, OOM) cannot remove its output directory; the next one
 * does, by the owner's pid in the name. A directory whose owner still runs (or whose pid was
 * reused) is left alone.
 */
function sweepOrphanDirs(root: string): void {
  for (const name of readdirSync(root)) {
    const owner = OUT_OWNER.exec(name)?.[1];
    if (owner && Number(owner) !== process.pid && !isAlive(Number(owner))) tryRemove(join(root, name));
  }
}

/** Another user's directory is not ours to remove (EPERM): it is left alone. */
function tryRemove(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // left for its owner
  }
}

/** The process's zygote, started on first use and again after it died. */
export function shellZygote(shellPath: string): Zygote {
  if (zygote?.alive) return zygote;
  const root = defaultOutRoot();
  let outDir: string;
  try {
    sweepOrphanDirs(root);
    outDir = mkdtempSync(join(root, `${OUT_PREFIX}${process.pid}-`));
  } catch {
    outDir = mkdtempSync(join(tmpdir(), `${OUT_PREFIX}${process.pid}-`));
  }
  zygote = new Zygote(shellPath, outDir);
  return zygote;
}
