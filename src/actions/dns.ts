// dns: replace a record at the provider and wait until the authoritative servers answer it.
import { Type } from '@sinclair/typebox';
import { Duration, Strict, Target, Text } from '../schema/common.js';
import { defineAction } from './types.js';

export const dns = defineAction({
  kind: 'dns',
  summary: 'replace a DNS record (powerdns, route53, cloudflare) and wait for propagation',
  idempotent: true,
  schema: Strict({
    record: Target('record', 'a record under the environment’s dns.records'),
    to: Target('node', 'node whose address the record should carry'),
    value: Type.Optional(Text('explicit value instead of a node address')),
    ttl: Type.Optional(Type.Integer({ minimum: 1 })),
    waitForPropagation: Type.Optional(Type.Boolean({ default: true })),
    propagationTimeout: Type.Optional(Duration()),
  }),
});
