// An ActionContext for calling one action directly in a test, without the engine.
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { childEnv } from '../../src/system/child-env.js';
import { stateDirOf } from '../../src/system/run-paths.js';
import { Redactor } from '../../src/connectors/redact.js';
import type { ActionContext, ActionDefinition, EnvContext, Outputs } from '../../src/actions/types.js';
import type { Environment } from '../../src/schema/inventory.js';

export interface TestActionContext extends ActionContext {
  /** What the action logged, in order. */
  logs: string[];
}

export function actionContext(env: Environment & { name?: string }, stepId = 'test'): TestActionContext {
  const logs: string[] = [];
  return {
    signal: AbortSignal.timeout(120_000),
    env: { name: 'lab', ...env } as EnvContext,
    runId: 'test-run',
    stepId,
    stateDir: stateDirOf(),
    secret: resolveSecretRef,
    redactor: new Redactor(),
    childEnv: () => childEnv(),
    log: (message) => logs.push(message),
    evaluate: () => {
      throw new Error('evaluate is not available in action tests');
    },
    requestApproval: () => Promise.reject(new Error('no approvals in action tests')),
    logs,
  };
}

/** Runs an action's `run` with an input (as the engine would after rendering and validating it). */
export function runAction<I>(
  action: ActionDefinition,
  env: Environment,
  input: I,
  stepId?: string,
): Promise<Outputs> {
  if (!action.run) throw new Error(`${action.kind} has no run`);
  return action.run(actionContext(env, stepId), input as never);
}
