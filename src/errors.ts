// Typed errors, mapped to exit codes in one place (exitCodeFor).

export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** Bad input from the user: a file, a flag, an inventory. Exit code 2, one line, no stack. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly location?: SourceLocation,
  ) {
    super(message);
  }

  /** `file:line:col: message` when the error has a place, the bare message otherwise. */
  format(): string {
    const l = this.location;
    return l ? `${l.file}:${l.line}:${l.col}: ${this.message}` : this.message;
  }
}

export const byPosition = (a: UserError, b: UserError) =>
  (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.col ?? 0) - (b.location?.col ?? 0);

/** Several located user errors found together (validation reports them all). */
export class UserErrors extends UserError {
  override name = 'UserErrors';
  constructor(readonly errors: UserError[]) {
    super(errors.map((e) => e.format()).join('\n'));
  }
  override format(): string {
    return this.message;
  }
}

export interface StepFailureOptions {
  /** The step it ended; the engine fills it in when an action does not know. */
  stepId?: string;
  /** Whether retrying the same attempt may succeed (the engine retries only these). Default false. */
  retryable?: boolean;
  /**
   * A stable name for what went wrong (a SQLSTATE, an errno, `timeout`, `http-503`...): a step's
   * `retry.nonRetryable` lists the codes it must not retry even when they are retryable.
   */
  code?: string;
  cause?: unknown;
}

/** A step (or a drill objective) failed at run time. Exit code 1. */
export class StepFailure extends Error {
  override name = 'StepFailure';
  readonly stepId?: string;
  readonly retryable: boolean;
  readonly code?: string;
  constructor(message: string, options: StepFailureOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.stepId = options.stepId;
    this.retryable = options.retryable ?? false;
    this.code = options.code;
  }
}

/** A bug in drillbook itself. Exit code 70 (EX_SOFTWARE), printed with its stack. */
export class InternalError extends Error {
  override name = 'InternalError';
}

export const ExitCode = { ok: 0, failed: 1, badInput: 2, internal: 70 } as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof UserError) return ExitCode.badInput;
  if (err instanceof StepFailure) return ExitCode.failed;
  return ExitCode.internal;
}

/** The text to print for an error: one line for expected errors, the stack for bugs. */
export function describeError(err: unknown): string {
  if (err instanceof UserError) return `error: ${err.format()}`;
  if (err instanceof StepFailure) return `failed: ${err.stepId ? `${err.stepId}: ` : ''}${err.message}`;
  const e = err instanceof Error ? err : new Error(String(err));
  return `internal error (a bug in drillbook, please report it): ${e.stack ?? e.message}`;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
