// Generated lab secrets: one file each, mode 600, referenced from the inventory as file:PATH.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LabSecrets {
  postgresPassword: string;
  replicationPassword: string;
  powerdnsApiKey: string;
  slackToken: string;
  /** The lab Slack app's signing secret: its endpoint signs approval clicks, serve checks them. */
  slackSigningSecret: string;
  /** Basic auth of Patroni's REST API (the unsafe calls: switchover, PATCH /config ...). */
  patroniRestPassword: string;
  /** The bearer token Alertmanager sends to the lab's serve (lab up --monitoring). */
  alertmanagerToken: string;
  /** The lab approver's sign-in token for the lab serve's web UI. */
  webUiToken: string;
}

export const SECRET_FILES: Record<keyof LabSecrets, string> = {
  postgresPassword: 'postgres-password',
  replicationPassword: 'replication-password',
  powerdnsApiKey: 'powerdns-api-key',
  slackToken: 'slack-token',
  slackSigningSecret: 'slack-signing-secret',
  patroniRestPassword: 'patroni-rest-password',
  alertmanagerToken: 'alertmanager-token',
  webUiToken: 'web-ui-token',
};

export const SSH_CLIENT_KEY_FILE = 'ssh-client-key';

/** Reads the lab's secrets, generating any that are missing (a repaired lab keeps its old ones). */
export function ensureSecrets(secretsDir: string): LabSecrets {
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const get = (name: keyof LabSecrets, make: () => string) => {
    const file = join(secretsDir, SECRET_FILES[name]);
    if (!existsSync(file)) writeFileSync(file, make() + '\n', { mode: 0o600 });
    return readFileSync(file, 'utf8').trim();
  };
  const hex = () => randomBytes(24).toString('hex');
  return {
    postgresPassword: get('postgresPassword', hex),
    replicationPassword: get('replicationPassword', hex),
    powerdnsApiKey: get('powerdnsApiKey', hex),
    slackToken: get('slackToken', () => `xoxb-lab-${hex()}`),
    slackSigningSecret: get('slackSigningSecret', hex),
    patroniRestPassword: get('patroniRestPassword', hex),
    alertmanagerToken: get('alertmanagerToken', hex),
    webUiToken: get('webUiToken', hex),
  };
}

export function secretPath(secretsDir: string, name: keyof LabSecrets): string {
  return join(secretsDir, SECRET_FILES[name]);
}
