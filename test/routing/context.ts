// An ActionContext for calling the routing actions directly in tests: real secrets, logs collected.
import assert from 'node:assert/strict';
import type { ActionContext, EnvContext } from '../../src/actions/types.js';
import { resolveSecretRef } from '../../src/connectors/secrets.js';
import { childEnv } from '../../src/system/child-env.js';
import { stateDirOf } from '../../src/system/run-paths.js';
import { Redactor } from '../../src/connectors/redact.js';
import { LAB_ENVIRONMENT } from '../../src/lab/inventory.js';
import type { Environment } from '../../src/schema/inventory.js';

export type TestActionContext = ActionContext & { logs: string[] };

export function actionContext(env: Environment, overrides: Partial<ActionContext> = {}): TestActionContext {
  const logs: string[] = [];
  const envContext: EnvContext = { ...env, name: LAB_ENVIRONMENT };
  return {
    signal: AbortSignal.timeout(60_000),
    env: envContext,
    runId: `test-${process.pid}-${Date.now()}`,
    stepId: 'step',
    stateDir: stateDirOf(),
    secret: resolveSecretRef,
    redactor: new Redactor(),
    childEnv: () => childEnv(),
    log: (message) => logs.push(message),
    evaluate: () => undefined,
    requestApproval: () => Promise.reject(new Error('no approvals in routing tests')),
    logs,
    ...overrides,
  };
}

/** The error a promise rejects with; fails the test when it resolves. */
export const failureOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
