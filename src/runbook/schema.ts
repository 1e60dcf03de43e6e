// The runbook schema, assembled from each action kind's `with:` schema and discriminated by `kind`.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { actions } from '../actions/registry.js';
import { API_VERSION, Duration, Name, StepId, Strict, Text, OneOf } from '../schema/common.js';

export const Retry = Strict({
  attempts: Type.Integer({ minimum: 1, maximum: 100, description: 'total attempts, the first included' }),
  delay: Type.Optional(Duration('pause before the second attempt')),
  factor: Type.Optional(Type.Number({ minimum: 1, description: 'backoff multiplier' })),
  maxDelay: Type.Optional(Duration()),
  nonRetryable: Type.Optional(
    Type.Array(Type.String({ minLength: 1 }), {
      uniqueItems: true,
      description:
        'failure codes this step must not retry even when the action calls them retryable (timeout, a SQLSTATE such as 57P03, an errno such as ECONNREFUSED, http-503)',
    }),
  ),
});

export const Phase = OneOf(['detect', 'decide', 'promote', 'route', 'validate', 'other'], {
  description: 'the failover phase this step belongs to (drill figures group steps by phase)',
});

/** Fields every step has, whatever its kind. */
const stepFields = {
  id: StepId,
  name: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  budget: Type.Optional(Duration('time this step is allowed; a miss is recorded, never aborts')),
  timeout: Type.Optional(Duration('hard stop for one attempt')),
  retry: Type.Optional(Retry),
  continueOnError: Type.Optional(Type.Boolean()),
  when: Type.Optional(Text('expression: the step runs only when it is true')),
  phase: Type.Optional(Phase),
  onFailure: Type.Optional(Type.String({ description: 'what the responder should do if this step fails' })),
};

const stepOf = (kind: string, schema: TSchema, summary: string) =>
  Strict({ ...stepFields, kind: Type.Literal(kind, { description: summary }), with: schema });

export const Step = Type.Union(
  [...actions.values()].map((a) => stepOf(a.kind, a.schema, a.summary)),
  { description: 'a step: one call of an action kind' },
);

/**
 * The same step with its `with:` left open. The loader checks this envelope once and then each
 * `with:` against its own kind's schema: the same rules as Step, with validators a tenth the size.
 */
export const StepEnvelope = Strict({
  ...stepFields,
  kind: OneOf([...actions.keys()], { description: 'the action kind' }),
  with: Type.Object({}, { additionalProperties: true }),
});

export const InputSpec = Strict({
  type: OneOf(['string', 'number', 'boolean']),
  default: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  description: Type.Optional(Type.String()),
  required: Type.Optional(Type.Boolean()),
});

export const Objectives = Strict({
  rto: Duration('recovery time objective: the whole run’s budget'),
  rpo: Type.Optional(
    Type.Integer({ minimum: 0, description: 'acceptable loss of acknowledged writes (rows)' }),
  ),
});

const runbookOf = <S extends TSchema>(step: S) =>
  Strict(
    {
      $schema: Type.Optional(Type.String()),
      apiVersion: Type.Literal(API_VERSION),
      kind: Type.Literal('Runbook'),
      metadata: Strict({ name: Name, description: Type.Optional(Type.String()) }),
      objectives: Type.Optional(Objectives),
      inputs: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), InputSpec)),
      lock: Type.Optional(Type.String({ description: 'lock key; defaults to the environment name' })),
      steps: Type.Array(step, { minItems: 1 }),
      rollback: Type.Optional(Type.Array(step)),
    },
    { title: 'drillbook Runbook', $id: 'https://drillbook.dev/schemas/runbook.schema.json' },
  );

/** The runbook schema editors and schemas/runbook.schema.json use: `with:` checked per kind. */
export const Runbook = runbookOf(Step);
/** What the loader validates first (see StepEnvelope). */
export const RunbookEnvelope = runbookOf(StepEnvelope);

export type Runbook = Static<typeof Runbook>;
export type Step = Static<typeof Step>;
export type InputSpec = Static<typeof InputSpec>;
