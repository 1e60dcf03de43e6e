// What restore-test and pitr share: the `with:` fields of a scratch instance and the start of a
// step that uses one (its PostgreSQL programs, and instances left by killed runs removed first).
import { Type } from '@sinclair/typebox';
import { parseDuration } from '../duration.js';
import { Duration, Text } from '../schema/common.js';
import { cleanStaleScratch, defaultScratchRoot } from './scratch.js';
import { pgTools, type PgTools } from './tools.js';
import type { BackupContext } from './context.js';

const DEFAULT_START_TIMEOUT_MS = 300_000;

export const scratchFields = {
  startTimeout: Type.Optional(
    Duration('how long the scratch instance may take to start and recover (default 5m)'),
  ),
  binDir: Type.Optional(Text('PostgreSQL programs (default: found like the lab finds them)')),
  scratchDir: Type.Optional(Text('where scratch instances live (default /var/tmp/drillbook-scratch)')),
};

export interface ScratchStep {
  tools: PgTools;
  root: string;
  startTimeoutMs: number;
}

export async function startScratchStep(
  ctx: BackupContext,
  input: { startTimeout?: string; binDir?: string; scratchDir?: string },
): Promise<ScratchStep> {
  const tools = pgTools(input.binDir, ctx.stepId, ctx.signal);
  const root = input.scratchDir ?? defaultScratchRoot();
  const stale = await cleanStaleScratch(root);
  if (stale.length) ctx.log(`removed scratch instances left by killed runs: ${stale.join(', ')}`);
  return { tools, root, startTimeoutMs: parseDuration(input.startTimeout ?? '') ?? DEFAULT_START_TIMEOUT_MS };
}
