// validate: through the route clients use, the new primary takes and returns a write.
import { Type } from '@sinclair/typebox';
import { Strict, Target, Targets, OneOf } from '../schema/common.js';
import { defineAction } from './types.js';

export const validate = defineAction({
  kind: 'validate',
  summary: 'connect through the router or DNS name, check the primary role, write and read back',
  idempotent: true,
  schema: Strict({
    target: Target('node', 'the node that should now be primary'),
    via: Type.Optional(OneOf(['router', 'dns', 'direct'], { default: 'router' })),
    router: Type.Optional(Target('router')),
    record: Type.Optional(Target('record')),
    write: Type.Optional(
      Type.Boolean({ default: true, description: 'write and read back a validation row' }),
    ),
    replicas: Type.Optional(Targets('node', 'replicas that must stream from the new primary')),
  }),
});
