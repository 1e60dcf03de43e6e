// What inventory targets a step names, read from the `x-drillbook-target` annotations of its schema.
import type { TSchema } from '@sinclair/typebox';
import { actions } from '../actions/registry.js';
import { TARGET_ANNOTATION, type TargetKind } from '../schema/common.js';
import type { Environment } from '../schema/inventory.js';

/** The target kind a schema (or its list items, or one of its union branches) is annotated with. */
function annotation(schema: TSchema | undefined): TargetKind | undefined {
  if (!schema) return undefined;
  const own = schema[TARGET_ANNOTATION] as TargetKind | undefined;
  if (own) return own;
  return (
    annotation(schema.items as TSchema | undefined) ??
    (schema.anyOf as TSchema[] | undefined)?.map(annotation).find(Boolean)
  );
}

const fieldsCache = new Map<string, [string, TargetKind][]>();

/** `with:` fields of an action kind that name targets. */
export function targetFields(kind: string): [string, TargetKind][] {
  let fields = fieldsCache.get(kind);
  if (!fields) {
    // A `with:` told apart by a discriminator (verify's check) has its fields in its branches.
    const schema = actions.get(kind)?.schema;
    const branches = (schema?.anyOf as TSchema[] | undefined) ?? (schema ? [schema] : []);
    const props = Object.assign({}, ...branches.map((b) => b.properties ?? {})) as Record<string, TSchema>;
    fields = Object.entries(props).flatMap(([k, s]) => {
      const t = annotation(s);
      return t ? [[k, t] as [string, TargetKind]] : [];
    });
    fieldsCache.set(kind, fields);
  }
  return fields;
}

/** The names an environment offers for a target kind. */
export function targetNames(env: Environment, kind: TargetKind): string[] {
  switch (kind) {
    case 'node':
      return ['primary', ...Object.keys(env.postgres.nodes)];
    case 'ssh':
      return Object.keys(env.ssh ?? {});
    case 'router':
      return Object.keys(env.routers ?? {});
    case 'record':
      return Object.keys(env.dns?.records ?? {});
    case 'vantage':
      return ['local', ...Object.keys(env.ssh ?? {}).map((h) => `ssh:${h}`)];
  }
}
