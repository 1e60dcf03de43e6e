// The contract every action kind implements: { kind, schema, run }.
import type { Static, TSchema } from '@sinclair/typebox';
import type { Redactor } from '../connectors/redact.js';
import type { EnvContext } from '../schema/inventory.js';
import { checkingOutputs, withOutputCheck } from './contract.js';

export type Outputs = Record<string, unknown>;

// Defined with the inventory, so the layers below actions (backup, connectors) can name it too.
export type { EnvContext };

export interface ActionContext {
  /** Aborted on timeout or Ctrl-C: every action must honour it. */
  signal: AbortSignal;
  env: EnvContext;
  runId: string;
  stepId: string;
  /** The session's state directory: run files an action keeps (the Slack thread) go in its run's directory. */
  stateDir: string;
  /** Resolves a secret reference (env:NAME, file:PATH); the value is redacted everywhere. */
  secret(ref: string): Promise<string>;
  /** The run's redactor: what an action sends out of the process itself (Slack, webhooks) goes through it. */
  redactor: Redactor;
  /**
   * The environment for a child process the step starts: ours without the DRILLBOOK_SECRET_*
   * variables, except those of the secrets.NAME its `with:` reads.
   */
  childEnv(): NodeJS.ProcessEnv;
  /** A progress line for the live view and the journal (never printed directly). */
  log(message: string): void;
  /**
   * A warning: a log line marked as such (the live view, the journal, the report's warnings) that
   * does not fail the step. Absent where nothing is journaled: use log then.
   */
  warn?(message: string): void;
  /**
   * Records a started child process, the leader of its own process group, in the journal before
   * it can act much: a resume after a crash waits for it or stops it, never runs a second copy.
   * Absent where nothing is journaled (a direct call in a test).
   */
  child?(pid: number): void;
  /** Evaluates a condition (bare expression or `${{ }}`) against the live run context (`wait.until`). */
  evaluate(expression: string): unknown;
  /**
   * Asks an operator to approve (pre-approved by --yes/--approve, else a prompt). Resolves when
   * approved; throws StepFailure when denied or when nobody can be asked. The wait is recorded apart.
   */
  requestApproval(request: ApprovalRequest): Promise<{ by: string; waitMs: number }>;
}

export interface ApprovalRequest {
  message: string;
  approvers?: string[];
}

/** What `run` returns: typed by the output schema, plain Outputs where the kind is not known. */
type OutputsOf<O extends TSchema> = unknown extends Static<O> ? Outputs : Static<O>;

export interface ActionDefinition<S extends TSchema = TSchema, O extends TSchema = TSchema> {
  kind: string;
  /** One line for `--help`-like listings and the schema's description. */
  summary: string;
  /** The JSON Schema of the step's `with:` block. */
  schema: S;
  /**
   * The JSON Schema of what `run` (and `alreadyDone`) return, the step's `steps.<id>.outputs`:
   * `validate` checks references against it, and under test every result is checked against it.
   */
  outputs: O;
  /** One step of this kind, shown by `drillbook actions` and in the README; the tests load it. */
  example: { id: string; with: Static<S> };
  /**
   * `with:` fields holding SQL text, as paths (`expect.*.query`: that field of each list item). Their
   * `${{ }}` expressions become bound parameters `$n`, appended to the `params` beside the field.
   */
  sqlFields?: readonly string[];
  /** True when running it twice has the same effect as once (resume may re-run it). */
  idempotent?: boolean;
  /** Executes the step. Absent while the kind exists only in the schema (its executor is planned). */
  run?(ctx: ActionContext, input: Static<S>): Promise<OutputsOf<O>>;
  /** What the step would do, for `run --dry-run`; never changes anything. */
  dryRun?(ctx: ActionContext, input: Static<S>): Promise<string>;
  /** For resume: outputs when the step's effect is already in place, undefined otherwise. */
  alreadyDone?(ctx: ActionContext, input: Static<S>): Promise<OutputsOf<O> | undefined>;
}

/** Whether a path inside `with:` (list indexes as numbers or `*`) is one of the action's SQL texts. */
export function isSqlField(action: Pick<ActionDefinition, 'sqlFields'>, path: readonly (string | number)[]) {
  return (action.sqlFields ?? []).some((field) => {
    const pattern = field.split('.');
    return (
      pattern.length === path.length &&
      pattern.every((p, i) => (p === '*' ? typeof path[i] === 'number' || path[i] === '*' : p === path[i]))
    );
  });
}

/** Keeps `run` typed against both schemas; under test its results are checked against `outputs`. */
export const defineAction = <S extends TSchema, O extends TSchema>(
  def: ActionDefinition<S, O>,
): ActionDefinition<S, O> => (checkingOutputs() ? withOutputCheck(def) : def);
