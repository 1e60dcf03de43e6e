// Starts the Slack endpoint (slack-server.ts) as a detached lab process.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StepFailure } from '../errors.js';
import type { LabContext } from './context.js';
import { portAnswers } from '../system/ports.js';
import { isLabProcess, logTail, spawnDetached, waitFor } from '../system/processes.js';
import { secretPath } from './secrets.js';
import type { SlackServerOptions } from './slack-server.js';

export const SLACK = 'slack';

export function slackApiUrl(ctx: Pick<LabContext, 'config'>): string {
  return `http://${ctx.config.serviceHost}:${ctx.config.slackPort}/api/`;
}

export async function ensureSlack(ctx: LabContext): Promise<void> {
  const existing = ctx.state.components[SLACK];
  if (existing && isLabProcess(existing.pid, ctx.paths.dir)) {
    ctx.report('slack: already running');
    return;
  }
  mkdirSync(ctx.paths.slack, { recursive: true, mode: 0o700 });
  const listen = { host: ctx.config.serviceHost, port: ctx.config.slackPort };
  const options: SlackServerOptions = {
    ...listen,
    tokenFile: secretPath(ctx.paths.secrets, 'slackToken'),
    signingSecretFile: secretPath(ctx.paths.secrets, 'slackSigningSecret'),
    messagesFile: ctx.paths.slackMessages,
  };
  const log = join(ctx.paths.logs, 'slack.log');
  const pid = spawnDetached(process.execPath, [...serverEntry(), JSON.stringify(options)], { logFile: log });
  ctx.record(SLACK, { kind: 'slack', pid, listen: [listen], created: true });
  if (
    !(await waitFor(() => isLabProcess(pid, ctx.paths.dir) && portAnswers(listen.host, listen.port), 10_000))
  ) {
    throw new StepFailure(
      `the Slack endpoint did not start on ${listen.host}:${listen.port}:\n${logTail(log)}`,
      { stepId: 'lab' },
    );
  }
  ctx.report(
    existing
      ? `slack: restarted (pid ${pid})`
      : `slack: ${slackApiUrl(ctx)} (messages in ${ctx.paths.slackMessages})`,
  );
}

/**
 * The server module: next to this one (tsc output in dist/lab, or .ts through tsx in tests), else
 * dist/lab/slack-server.js of the package, since the bundled CLI runs this code from a chunk elsewhere.
 */
export function serverEntry(): string[] {
  const here = fileURLToPath(import.meta.url);
  const sibling = join(dirname(here), `slack-server${extname(here)}`);
  if (existsSync(sibling)) {
    return here.endsWith('.ts') ? ['--import', import.meta.resolve('tsx'), sibling] : [sibling];
  }
  for (let dir = dirname(here); dir !== dirname(dir); dir = dirname(dir)) {
    const built = join(dir, 'dist', 'lab', 'slack-server.js');
    if (existsSync(join(dir, 'package.json')) && existsSync(built)) return [built];
  }
  throw new StepFailure(
    `cannot find the Slack endpoint server (slack-server.js) near ${here}; run npm run build`,
    { stepId: 'lab' },
  );
}
