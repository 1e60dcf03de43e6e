// fence: make the old primary unable to take writes — the split-brain guard.
import { Type } from '@sinclair/typebox';
import { Strict, Target, OneOf } from '../schema/common.js';
import { defineAction } from './types.js';

export const fence = defineAction({
  kind: 'fence',
  summary: 'stop, disable in the router, or firewall the old primary, then verify it takes no writes',
  idempotent: true,
  schema: Strict({
    target: Target('node', 'the node to fence'),
    method: Type.Optional(OneOf(['stop', 'router', 'iptables'], { default: 'stop' })),
    router: Type.Optional(Target('router', 'router for method: router')),
    server: Type.Optional(Type.String({ description: 'router server slot for method: router' })),
    allowUnreachable: Type.Optional(
      Type.Boolean({ description: 'count an unreachable node as fenced (it is already down)' }),
    ),
  }),
});
