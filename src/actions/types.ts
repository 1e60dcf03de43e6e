// The contract every action kind implements: { kind, schema, run }.
import type { Static, TSchema } from '@sinclair/typebox';
import type { Environment } from '../schema/inventory.js';

export type Outputs = Record<string, unknown>;

/** The chosen environment as expressions see it (`env.name`, `env.primary`, ...). */
export type EnvContext = Environment & { name: string };

export interface ActionContext {
  /** Aborted on timeout or Ctrl-C: every action must honour it. */
  signal: AbortSignal;
  env: EnvContext;
  runId: string;
  stepId: string;
  /** Resolves a secret reference (env:NAME, file:PATH); the value is redacted everywhere. */
  secret(ref: string): Promise<string>;
  /** A progress line for the live view and the journal (never printed directly). */
  log(message: string): void;
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

export interface ActionDefinition<S extends TSchema = TSchema> {
  kind: string;
  /** One line for `--help`-like listings and the schema's description. */
  summary: string;
  /** The JSON Schema of the step's `with:` block. */
  schema: S;
  /** `with:` fields never rendered: an expression there is refused (sql.query: values go in params). */
  literalFields?: readonly string[];
  /** True when running it twice has the same effect as once (resume may re-run it). */
  idempotent?: boolean;
  /** Executes the step. Absent while the kind exists only in the schema (its executor is planned). */
  run?(ctx: ActionContext, input: Static<S>): Promise<Outputs>;
  /** What the step would do, for `run --dry-run`; never changes anything. */
  dryRun?(ctx: ActionContext, input: Static<S>): Promise<string>;
  /** For resume: outputs when the step's effect is already in place, undefined otherwise. */
  alreadyDone?(ctx: ActionContext, input: Static<S>): Promise<Outputs | undefined>;
}

/** Helper that keeps `run` typed against the schema. */
export const defineAction = <S extends TSchema>(def: ActionDefinition<S>): ActionDefinition<S> => def;
