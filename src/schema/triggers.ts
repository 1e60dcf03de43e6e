// The triggers file (`kind: Triggers`): which alert starts which runbook, on which environment, with
// which inputs, and how the receiver authenticates Alertmanager. Read by `drillbook serve`.
import { Type, type Static } from '@sinclair/typebox';
import { API_VERSION, Name, OneOf, SecretRef, Strict } from './common.js';

/** A label's value: the exact text, or `~REGEX` matched against the whole value. */
const Matcher = Type.String({
  description: 'the exact label value, or ~REGEX matched against the whole value (e.g. "~prod.*")',
});

export const Trigger = Strict({
  name: Name,
  match: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Matcher, {
    minProperties: 1,
    description: 'label matchers (alertname, env, severity, ...): every one must match',
  }),
  runbook: Type.String({ description: 'the runbook a firing alert starts, relative to this file' }),
  environment: Type.String({
    description: 'the environment, or an expression such as ${{ alert.labels.env }}',
  }),
  inputs: Type.Optional(
    Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
      description:
        'runbook inputs; strings may read the alert: ${{ alert.labels.instance }}, ${{ alert.annotations.summary }}, ${{ alert.startsAt }}',
    }),
  ),
  approval: Type.Optional(
    OneOf(['required', 'auto'], {
      description:
        'required: approve steps wait for a person (Slack button or drillbook approve); auto: they pass. Default: required for production, auto for staging',
    }),
  ),
  onResolved: Type.Optional(
    Type.String({
      description: 'a runbook the resolved notification starts (never the firing one); absent: none',
    }),
  ),
});

/** Who may sign in to serve's web UI, and where its schedule page reads drills from. */
export const WebUi = Strict(
  {
    users: Type.Array(
      Strict({
        id: Type.String({
          pattern: '^[UW][A-Z0-9]{2,}$',
          description:
            "the person's Slack user id: approvals from the web page obey the environment's slack.approvers and fourEyes like a Slack click",
        }),
        name: Type.Optional(Type.String({ description: 'shown in the page and in the journal' })),
        token: SecretRef,
      }),
      { minItems: 1, description: 'each signs in with their own token (a secret reference)' },
    ),
    drills: Type.Optional(
      Type.String({
        description: 'the directory of scheduled drills, relative to this file (the schedule page)',
      }),
    ),
  },
  { description: "drillbook serve's web UI at /: without it the pages answer 404" },
);

export const Triggers = Strict(
  {
    $schema: Type.Optional(Type.String()),
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal('Triggers'),
    metadata: Type.Optional(Strict({ name: Name, description: Type.Optional(Type.String()) })),
    receiver: Strict(
      {
        token: SecretRef,
        hmacSecret: Type.Optional(SecretRef),
      },
      {
        description:
          'Alertmanager authenticates with this bearer token (http_config.authorization); with hmacSecret, each POST also carries X-Drillbook-Signature: sha256=HEX of its body',
      },
    ),
    inventory: Type.Optional(Type.String({ description: 'inventory path relative to this file' })),
    triggers: Type.Array(Trigger, { minItems: 1 }),
    ui: Type.Optional(WebUi),
  },
  { title: 'drillbook Triggers', $id: 'https://drillbook.dev/schemas/triggers.schema.json' },
);

export type Triggers = Static<typeof Triggers>;
export type Trigger = Static<typeof Trigger>;
export type WebUi = Static<typeof WebUi>;
