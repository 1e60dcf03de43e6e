// What a backup operation needs from the step that runs it, and nothing more: backup sits below
// actions, so it names its own needs and the action context (ActionContext) meets them as it is.
import type { RemoteContext } from '../connectors/node-host.js';

export interface BackupContext extends RemoteContext {
  /** The step's id, for messages that name where a bad input came from. */
  stepId: string;
  /** A progress line for the live view and the journal. */
  log(message: string): void;
}
