// approve: a human decision point; waiting time is recorded apart from machine time.
import { Type } from '@sinclair/typebox';
import { Strict, Text } from '../schema/common.js';
import { defineAction } from './types.js';

export const approve = defineAction({
  kind: 'approve',
  summary: 'ask an operator to confirm (TTY prompt, or --approve STEP / --yes)',
  schema: Strict({
    message: Text('the question shown to the operator'),
    approvers: Type.Optional(Type.Array(Type.String())),
  }),
});
