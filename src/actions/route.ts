// route: point the router (HAProxy runtime API) at another server.
import { Type } from '@sinclair/typebox';
import { Strict, Target, OneOf } from '../schema/common.js';
import { defineAction } from './types.js';

export const route = defineAction({
  kind: 'route',
  summary: 'switch an HAProxy server slot to a node, or enable/disable/drain it',
  idempotent: true,
  schema: Strict({
    router: Target('router'),
    backend: Type.Optional(Type.String({ description: 'defaults to the router’s backend' })),
    server: Type.Optional(Type.String({ description: 'defaults to the router’s write server slot' })),
    to: Type.Optional(Target('node', 'node the slot should point at')),
    action: Type.Optional(
      OneOf(['set', 'enable', 'disable', 'drain'], {
        default: 'set',
      }),
    ),
  }),
});
