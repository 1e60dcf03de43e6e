// wait: a fixed pause, or until a condition holds (with a deadline).
import { Type } from '@sinclair/typebox';
import { setTimeout as sleep } from 'node:timers/promises';
import { Duration, Strict, Text } from '../schema/common.js';
import { formatDuration, parseDuration } from '../duration.js';
import { StepFailure, UserError } from '../errors.js';
import { defineAction } from './types.js';
import { Ms } from './contract.js';

const DEFAULT_INTERVAL_MS = 1000;

export const wait = defineAction({
  kind: 'wait',
  summary: 'sleep for a duration, or poll until an expression holds',
  idempotent: true,
  schema: Strict({
    duration: Type.Optional(Duration()),
    until: Type.Optional(Text('expression re-evaluated every interval until true')),
    interval: Type.Optional(Duration()),
    deadline: Type.Optional(Duration()),
  }),
  outputs: Strict({
    waitedMs: Ms(),
    checks: Type.Optional(Type.Integer({ minimum: 1, description: 'times `until` was evaluated' })),
  }),
  example: {
    id: 'settle',
    with: { until: 'steps.pick.outputs.lagBytes == 0', interval: '1s', deadline: '30s' },
  },
  async run(ctx, input) {
    const started = performance.now();
    if (input.until === undefined) {
      if (input.duration === undefined)
        throw new UserError(`step ${ctx.stepId}: wait needs duration or until`);
      const ms = parseDuration(input.duration)!;
      // A zero wait costs nothing: no timer (a 1,000-step runbook of them measures the engine alone).
      if (ms > 0) await sleep(ms, undefined, { signal: ctx.signal });
      return { waitedMs: performance.now() - started };
    }
    const interval = parseDuration(input.interval ?? '') ?? DEFAULT_INTERVAL_MS;
    const deadline = input.deadline === undefined ? Infinity : parseDuration(input.deadline)!;
    for (let checks = 1; ; checks++) {
      if (ctx.evaluate(input.until)) return { waitedMs: performance.now() - started, checks };
      if (performance.now() - started + interval > deadline) {
        throw new StepFailure(
          `"${input.until}" still false after ${formatDuration(deadline)} (${checks} checks)`,
        );
      }
      await sleep(interval, undefined, { signal: ctx.signal });
    }
  },
  async dryRun(_ctx, input) {
    if (input.until === undefined) return `would wait ${input.duration ?? '(no duration)'}`;
    return `would wait until ${input.until} (every ${input.interval ?? '1s'}${input.deadline ? `, at most ${input.deadline}` : ''})`;
  },
});
