// approve: a human decision point; waiting time is recorded apart from machine time.
import { Type } from '@sinclair/typebox';
import { Strict, Text } from '../schema/common.js';
import { defineAction } from './types.js';
import { Ms } from './contract.js';

export const approve = defineAction({
  kind: 'approve',
  summary:
    'ask an operator to confirm (TTY prompt, or --approve STEP / --yes; under drillbook serve, a Slack button or drillbook approve)',
  // Asking again after a crash changes nothing.
  idempotent: true,
  schema: Strict({
    message: Text('the question shown to the operator'),
    approvers: Type.Optional(Type.Array(Type.String())),
  }),
  outputs: Strict({
    approvedBy: Type.String({
      description:
        'who approved and how (operator name, --yes or --approve, a Slack user id via slack, user@host via drillbook approve)',
    }),
    waitMs: Ms('time spent waiting for the answer'),
  }),
  example: { id: 'go-ahead', with: { message: 'Promote pg2 and move the writers?' } },
  async run(ctx, input) {
    const answer = await ctx.requestApproval({ message: input.message, approvers: input.approvers });
    return { approvedBy: answer.by, waitMs: answer.waitMs };
  },
  async dryRun(_ctx, input) {
    return `would ask the operator: "${input.message}" (pre-approve with --approve STEP or --yes)`;
  },
});
