// Shared by the engine tests: temporary files, an in-process runner with collected events, and
// the CLI as a real process (bundled once with esbuild: starting it through tsx costs ~2 s).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { build } from 'esbuild';
import { actions as registry } from '../../src/actions/registry.js';
import type { ActionDefinition } from '../../src/actions/types.js';
import { prepareRun } from '../../src/runbook/prepare.js';
import { createAjv, schemaOf, validatorFile, validatorNames } from '../../src/runbook/validators.js';
import { RunEmitter, type RunEvent } from '../../src/engine/events.js';
import type { RunnerOptions, RunResult } from '../../src/engine/run-spec.js';
import { executeRun } from '../../src/engine/runner.js';

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'drillbook-engine-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const INVENTORY = `apiVersion: drillbook/v1
kind: Inventory
environments:
  test:
    label: staging
    primary: pg1
    replicas: [pg2]
    postgres:
      database: app
      user: app
      nodes:
        pg1: { host: 127.0.0.1, port: 1 }
        pg2: { host: 127.0.0.1, port: 2 }
`;

/** Writes a runbook (its `steps:` and more given as YAML) and the test inventory into dir. */
export function writeFiles(dir: string, body: string, name = 'test'): { runbook: string; inventory: string } {
  const runbook = join(dir, `${name}.yaml`);
  const inventory = join(dir, 'inventory.yaml');
  writeFileSync(runbook, `apiVersion: drillbook/v1\nkind: Runbook\nmetadata: { name: ${name} }\n${body}`);
  writeFileSync(inventory, INVENTORY);
  return { runbook, inventory };
}

/** The registry with some kinds' `run` replaced (same schemas, so runbooks still validate). */
export function withFakes(fakes: Record<string, Partial<ActionDefinition>>): Map<string, ActionDefinition> {
  const map = new Map(registry);
  for (const [kind, over] of Object.entries(fakes)) map.set(kind, { ...registry.get(kind)!, ...over });
  return map;
}

export interface InProcessRun {
  result: RunResult;
  events: RunEvent[];
  types: string[];
}

/** Runs a runbook in this process and collects its events. */
export async function runInProcess(
  t: TestContext,
  body: string,
  options: Partial<RunnerOptions> & {
    inputs?: Record<string, unknown>;
    secrets?: Record<string, string>;
    /** Another inventory (the lab's) and environment instead of the test one. */
    inventory?: string;
    envName?: string;
  } = {},
): Promise<InProcessRun> {
  const dir = tempDir(t);
  const files = writeFiles(dir, body);
  const prepared = prepareRun({
    runbookFile: files.runbook,
    inventoryFile: options.inventory ?? files.inventory,
    envName: options.envName ?? 'test',
    inputs: options.inputs,
  });
  const emitter = options.emitter ?? new RunEmitter('test-run');
  for (const [name, v] of Object.entries(options.secrets ?? {})) emitter.redactor.add(v, `secrets.${name}`);
  const events: RunEvent[] = [];
  emitter.subscribe((e) => events.push(e));
  const result = await executeRun(
    {
      runId: emitter.runId,
      runbook: prepared.runbook,
      runbookPath: files.runbook,
      runbookSha256: 'x',
      env: prepared.env,
      inputs: prepared.inputs,
      secrets: options.secrets ?? {},
      operator: 'tester@host',
    },
    { stateDir: dir, ...options, emitter },
  );
  return { result, events, types: events.map((e) => e.type) };
}

export const ofType = <T extends RunEvent['type']>(events: RunEvent[], type: T) =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

/** Standalone validators beside the bundle, as `npm run build` writes them for dist/ (fast start-up). */
function writeValidators(bundleDir: string): void {
  const standalone = createRequire(import.meta.url)('ajv/dist/standalone')
    .default as typeof import('ajv/dist/standalone/index.js').default;
  mkdirSync(join(bundleDir, '../validators'), { recursive: true });
  for (const name of validatorNames()) {
    const ajv = createAjv({ code: { source: true } });
    writeFileSync(join(bundleDir, validatorFile(name)), standalone(ajv, ajv.compile(schemaOf(name))));
  }
}

/** One ESM file for plain `node` (packages stay in node_modules): no tsx start-up cost or memory. */
export async function bundleForNode(
  entry: string,
  outfile: string,
  { split = false }: { split?: boolean } = {},
): Promise<void> {
  await build({
    entryPoints: [entry],
    // Split: each dynamic import() is its own chunk, loaded only when reached (as bin/drillbook.js
    // loads the CLI bundle after it set the heap flags; parsing it first could grow the heap).
    ...(split
      ? {
          outdir: dirname(outfile),
          entryNames: basename(outfile, '.mjs'),
          outExtension: { '.js': '.mjs' },
          splitting: true,
        }
      : { outfile }),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
}

let bundled: Promise<string> | undefined;

/** The CLI bundled from source (all packages external, resolved from node_modules). */
export function cliBundle(): Promise<string> {
  bundled ??= (async () => {
    const outdir = resolve('node_modules/.cache/drillbook-engine-test', String(process.pid), 'bundle');
    mkdirSync(outdir, { recursive: true });
    const outfile = join(outdir, 'cli.mjs');
    writeValidators(outdir);
    await bundleForNode(resolve('test/engine/cli-entry.ts'), outfile, { split: true });
    process.on('exit', () => rmSync(dirname(outdir), { recursive: true, force: true }));
    return outfile;
  })();
  return bundled;
}

export interface CliRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/**
 * Starts `drillbook ARGS` as a process; the test kills it if it is still running at the end. Its
 * state directory is `<cwd>/.drillbook` unless the test gives DRILLBOOK_STATE_DIR: never the machine's.
 */
export async function startCli(
  t: TestContext,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<CliRun> {
  const child = spawn(process.execPath, [await cliBundle(), ...args], {
    cwd: options.cwd,
    env: { ...process.env, DRILLBOOK_STATE_DIR: join(options.cwd, '.drillbook'), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Awaited<CliRun['done']>>((res) =>
    child.on('close', (code, signal) => res({ code, signal, stdout, stderr })),
  );
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, done };
}

export async function runCli(
  t: TestContext,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
) {
  return (await startCli(t, args, options)).done;
}

/** True while a process exists and is not a zombie. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}
