// dns: replace a record at the provider and wait until the authoritative servers answer it.
import { Type } from '@sinclair/typebox';
import { parseDuration } from '../duration.js';
import { UserError } from '../errors.js';
import { nodeEndpoint } from '../connectors/postgres.js';
import { inventoryRecord } from '../connectors/dns/inventory.js';
import { dnsProvider, sameName } from '../connectors/dns/provider.js';
import { waitForPropagation } from '../connectors/dns/resolve.js';
import { Duration, Strict, Target, Text } from '../schema/common.js';
import { resolveNode } from '../schema/inventory.js';
import { defineAction, type ActionContext } from './types.js';
import { Ms } from './contract.js';

const DEFAULT_PROPAGATION_TIMEOUT_MS = 60_000;
/** A record without a TTL anywhere (inventory, step, provider) gets this one. */
const DEFAULT_TTL = 60;

export const dns = defineAction({
  kind: 'dns',
  summary: 'replace a DNS record (powerdns, route53, cloudflare) and wait for propagation',
  idempotent: true,
  schema: Strict({
    record: Target('record', 'a record under the environment’s dns.records'),
    to: Type.Optional(Target('node', 'node whose address the record should carry')),
    value: Type.Optional(Text('explicit value instead of a node address')),
    ttl: Type.Optional(Type.Integer({ minimum: 1 })),
    waitForPropagation: Type.Optional(Type.Boolean({ default: true })),
    propagationTimeout: Type.Optional(
      Duration('how long the provider change and the nameservers may take (default 60s)'),
    ),
  }),
  outputs: Strict({
    record: Type.String(),
    name: Type.String(),
    type: Type.String(),
    value: Type.String(),
    previous: Type.Optional(Type.String()),
    ttl: Type.Integer(),
    previousTtl: Type.Optional(Type.Integer()),
    changed: Type.Boolean(),
    changeMs: Ms(),
    propagationMs: Type.Optional(Ms('until every nameserver answers the new value')),
    message: Type.String({ description: 'how long clients may keep the old answer' }),
  }),
  example: { id: 'repoint', with: { record: 'primary', to: '${{ steps.promote.outputs.node }}', ttl: 30 } },
  async run(ctx, input) {
    const { record, zone } = inventoryRecord(ctx.env, input.record);
    const value = desiredValue(ctx, input);
    const timeoutMs = parseDuration(input.propagationTimeout ?? '') ?? DEFAULT_PROPAGATION_TIMEOUT_MS;
    const started = performance.now();
    const provider = await dnsProvider(zone, {
      secret: ctx.secret,
      signal: ctx.signal,
      syncTimeoutMs: timeoutMs,
    });

    const before = await provider.getRecord(record.name, record.type);
    const ttl = input.ttl ?? record.ttl ?? before?.ttl ?? DEFAULT_TTL;
    const current = before?.values.length === 1 && sameName(before.values[0]!, value) && before.ttl === ttl;
    if (!current) {
      await provider.replaceRecord(record.name, record.type, value, ttl);
      ctx.log(
        `${provider.target}: ${record.type} ${record.name} ${before?.values.join(',') || '(none)'} -> ${value}`,
      );
    }
    const changeMs = Math.round(performance.now() - started);

    let propagationMs: number | undefined;
    if (input.waitForPropagation ?? true) {
      const left = Math.max(0, timeoutMs - changeMs);
      propagationMs = await waitForPropagation(zone.nameservers, record.name, record.type, value, {
        timeoutMs: left,
        signal: ctx.signal,
      });
    }
    // Resolvers and clients that asked before the change may keep the old answer for its TTL.
    const cachedFor = before?.ttl ?? 0;
    return {
      record: input.record,
      name: record.name,
      type: record.type,
      value,
      previous: before?.values.join(','),
      ttl,
      previousTtl: before?.ttl,
      changed: !current,
      changeMs,
      propagationMs,
      message: current
        ? `${record.name} already carried ${value}`
        : cachedFor
          ? `clients may still use the old answer ${before?.values.join(',')} for up to ${cachedFor}s (its TTL)`
          : `${record.name} had no ${record.type} record before`,
    };
  },
  async dryRun(ctx, input) {
    const record = ctx.env.dns?.records[input.record];
    const value = input.value ?? (input.to ? `${resolveNode(ctx.env, input.to)}'s address` : '(no value)');
    const wait = (input.waitForPropagation ?? true) ? ' and wait until its nameservers answer it' : '';
    return `would set ${record?.type ?? ''} ${record?.name ?? input.record} to ${value}${wait}`;
  },
});

function desiredValue(ctx: ActionContext, input: { to?: string; value?: string }): string {
  if (input.value) return input.value;
  if (!input.to) throw new UserError('dns: give "to" (a node) or "value"');
  return nodeEndpoint(ctx.env, input.to).host;
}
