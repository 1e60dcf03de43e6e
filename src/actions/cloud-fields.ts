// Schema pieces the cloud actions (rds, aurora-global) share.
import { Type } from '@sinclair/typebox';
import { Ms } from './contract.js';

/** The `action:` of one branch of a cloud action's `with:`, with what it calls. */
export const CloudAction = <N extends string>(name: N, description: string) =>
  Type.Literal(name, { description });

/** Output fields every cloud action returns. */
export const cloudOutputs = {
  action: Type.String({ description: 'the action that ran' }),
  waitedMs: Type.Optional(Ms('wait: until the writer and status were reached')),
  message: Type.String({ description: 'what happened, in one line' }),
};
