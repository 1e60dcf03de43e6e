// `drillbook actions [KIND] [--json]`: what each action kind takes, returns, and an example.
import type { Command } from '@commander-js/extra-typings';
import { actions } from '../../actions/registry.js';
import { actionReference, allActionReferences, formatActionText } from '../../actions/reference.js';
import { ExitCode, UserError } from '../../errors.js';
import { didYouMean } from '../../system/suggest.js';
import type { Output } from '../../system/output.js';

export function listActions(kind: string | undefined, options: { json?: boolean }, io: Output): number {
  let refs = allActionReferences();
  if (kind !== undefined) {
    const action = actions.get(kind);
    if (!action) {
      const kinds = [...actions.keys()];
      throw new UserError(
        `unknown action kind "${kind}"${didYouMean(kind, kinds)}; kinds: ${kinds.join(', ')}`,
      );
    }
    refs = [actionReference(action)];
  }
  io.out(
    options.json ? JSON.stringify(kind ? refs[0] : refs, null, 2) : refs.map(formatActionText).join('\n\n'),
  );
  return ExitCode.ok;
}

export function registerActions(program: Command, io: Output, done: (code: number) => void): void {
  program
    .command('actions')
    .description("each action kind's inputs (with:), outputs and an example")
    .argument('[kind]', 'one action kind')
    .option('--json', 'machine-readable')
    .action((kind, options) => done(listActions(kind, options, io)));
}
