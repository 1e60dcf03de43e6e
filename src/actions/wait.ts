// wait: a fixed pause, or until a condition holds (with a deadline).
import { Type } from '@sinclair/typebox';
import { Duration, Strict, Text } from '../schema/common.js';
import { defineAction } from './types.js';

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
});
