// verify: is a target up, down, primary or replica — checked from several vantage points.
import { Type } from '@sinclair/typebox';
import { Duration, OrExpr, Port, Strict, Target, TARGET_ANNOTATION, Text, OneOf } from '../schema/common.js';
import { defineAction } from './types.js';

export const verify = defineAction({
  kind: 'verify',
  summary: 'check a target (postgres, tcp, sql, http) from one or more vantage points with a quorum',
  idempotent: true,
  schema: Strict({
    check: OneOf(['postgres', 'tcp', 'sql', 'http']),
    target: Type.Optional(Target('node', 'PostgreSQL node (postgres, sql checks)')),
    host: Type.Optional(Text('host for a tcp check')),
    port: Type.Optional(OrExpr(Port)),
    url: Type.Optional(Text('URL for an http check (loopback only in the lab)')),
    status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599, description: 'expected HTTP status' })),
    query: Type.Optional(Text('SQL for a sql check; its first column of the first row is compared')),
    equals: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    expect: Type.Optional(OneOf(['up', 'down', 'primary', 'replica'], { default: 'up' })),
    from: Type.Optional(
      Type.Array(Type.String({ pattern: '^(local|ssh:[A-Za-z0-9_.-]+)$', [TARGET_ANNOTATION]: 'vantage' }), {
        minItems: 1,
        description: 'vantage points: local, or ssh:<host> to run the check on that host',
      }),
    ),
    quorum: Type.Optional(Type.Integer({ minimum: 1, description: 'vantage points that must agree' })),
    connectTimeout: Type.Optional(Duration('per-check connection timeout')),
  }),
});
