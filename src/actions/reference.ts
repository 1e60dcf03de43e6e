// The action reference: each kind's inputs, outputs and example, read from its definition. One
// source for `drillbook actions` (text and --json) and the README's section (npm run docs).
import type { TSchema } from '@sinclair/typebox';
import { stringify } from 'yaml';
import { actions } from './registry.js';
import type { ActionDefinition } from './types.js';

export interface Field {
  name: string;
  type: string;
  required: boolean;
  description?: string;
}

/** A group of fields: one per branch of a discriminated schema (verify's check), else one. */
export interface FieldGroup {
  when?: string;
  fields: Field[];
}

export interface ActionReference {
  kind: string;
  summary: string;
  idempotent: boolean;
  inputs: FieldGroup[];
  outputs: FieldGroup[];
  example: string;
}

function typeOf(s: TSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return (s.enum as unknown[]).map((v) => JSON.stringify(v)).join(' | ');
  if (s.anyOf) return [...new Set((s.anyOf as TSchema[]).map(typeOf))].join(' | ');
  if (s.type === 'array') return `list of ${typeOf(s.items as TSchema)}`;
  if (s.type === 'object') {
    const values = Object.values((s.patternProperties ?? {}) as Record<string, TSchema>)[0];
    return values ? `map of ${typeOf(values)}` : 'map';
  }
  return (s.type as string | undefined) ?? 'any';
}

function groups(schema: TSchema): FieldGroup[] {
  const branches = (schema.anyOf as TSchema[] | undefined) ?? [schema];
  return branches.map((b) => {
    const props = (b.properties ?? {}) as Record<string, TSchema>;
    const required = new Set((b.required as string[] | undefined) ?? []);
    const disc =
      branches.length > 1 ? Object.entries(props).find(([, p]) => p.const !== undefined) : undefined;
    return {
      ...(disc && { when: `${disc[0]}: ${String(disc[1].const)}` }),
      fields: Object.entries(props).map(([name, p]) => ({
        name,
        type: typeOf(p),
        required: required.has(name),
        ...(p.description !== undefined && { description: p.description as string }),
      })),
    };
  });
}

export function actionReference(action: ActionDefinition): ActionReference {
  return {
    kind: action.kind,
    summary: action.summary,
    idempotent: action.idempotent ?? false,
    inputs: groups(action.schema),
    outputs: groups(action.outputs),
    example: stringify([{ id: action.example.id, kind: action.kind, with: action.example.with }]),
  };
}

export const allActionReferences = (): ActionReference[] => [...actions.values()].map(actionReference);

const fieldLine = (f: Field) =>
  `${f.name}${f.required ? '' : '?'}: ${f.type}${f.description ? ` — ${f.description}` : ''}`;

function groupLines(gs: FieldGroup[], indent: string): string[] {
  return gs.flatMap((g) =>
    g.when
      ? [`${indent}${g.when}`, ...g.fields.map((f) => `${indent}  ${fieldLine(f)}`)]
      : g.fields.map((f) => `${indent}${fieldLine(f)}`),
  );
}

/** `drillbook actions KIND`: plain text. */
export function formatActionText(r: ActionReference): string {
  return [
    `${r.kind}: ${r.summary}${r.idempotent ? ' (idempotent)' : ''}`,
    'inputs (with:)',
    ...groupLines(r.inputs, '  '),
    'outputs (steps.<id>.outputs)',
    ...groupLines(r.outputs, '  '),
    'example',
    ...r.example
      .trimEnd()
      .split('\n')
      .map((l) => `  ${l}`),
  ].join('\n');
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

function groupTable(gs: FieldGroup[]): string[] {
  const rows = gs.flatMap((g) =>
    g.fields.map(
      (f) =>
        `| ${g.when ? `${cell(g.when)}: ` : ''}\`${f.name}\`${f.required ? '' : ' (optional)'} | ${cell(f.type)} | ${cell(f.description ?? '')} |`,
    ),
  );
  return ['| field | type | meaning |', '| --- | --- | --- |', ...rows];
}

/** The README's action reference (between its markers). */
export function formatActionsMarkdown(refs: ActionReference[]): string {
  return refs
    .flatMap((r) => [
      `### \`${r.kind}\``,
      '',
      `${r.summary}${r.idempotent ? ' Idempotent: resume may run it again.' : ''}`,
      '',
      'Inputs (`with:`):',
      '',
      ...groupTable(r.inputs),
      '',
      'Outputs (`steps.<id>.outputs`):',
      '',
      ...groupTable(r.outputs),
      '',
      '```yaml',
      r.example.trimEnd(),
      '```',
      '',
    ])
    .join('\n');
}
