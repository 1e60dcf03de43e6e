// The Slack thread of a run: the first notification opens it, later ones (also after `resume`)
// reply in it. Kept in the run's directory next to its journal, one entry per channel asked for.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runDir } from '../system/run-paths.js';
import { StepFailure, errorMessage } from '../errors.js';

export interface SlackThread {
  /** The channel id Slack answered (replies must use the id, not the name). */
  channel: string;
  ts: string;
}

type Threads = Record<string, SlackThread>;

export const slackThreadFile = (runId: string, stateDir: string) =>
  join(runDir(stateDir, runId), 'slack-thread.json');

export async function readSlackThread(file: string, channel: string): Promise<SlackThread | undefined> {
  return (await readThreads(file))[channel];
}

/** Writes of each file in this process, in order: the run's thread and notify may save at once. */
const saving = new Map<string, Promise<void>>();

export async function saveSlackThread(file: string, channel: string, thread: SlackThread): Promise<void> {
  const save = (saving.get(file) ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => writeThread(file, channel, thread));
  saving.set(file, save);
  try {
    await save;
  } finally {
    if (saving.get(file) === save) saving.delete(file);
  }
}

async function writeThread(file: string, channel: string, thread: SlackThread): Promise<void> {
  const threads = { ...(await readThreads(file)), [channel]: thread };
  await mkdir(dirname(file), { recursive: true });
  // Written aside and renamed: an interrupted write never leaves a half file that loses the thread.
  await writeFile(`${file}.tmp`, JSON.stringify(threads, null, 2) + '\n', { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

async function readThreads(file: string): Promise<Threads> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Threads;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new StepFailure(`cannot read the run's Slack thread from ${file}: ${errorMessage(err)}`);
  }
}
