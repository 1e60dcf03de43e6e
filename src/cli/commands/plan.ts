// `drillbook plan RUNBOOK --env E`: each step with rendered inputs and budgets; connects to nothing.
import type { Command } from '@commander-js/extra-typings';
import { ExitCode } from '../../errors.js';
import { parseSets } from '../../runbook/inputs.js';
import { buildPlan, formatPlan } from '../../runbook/plan.js';
import { prepareRun } from '../../runbook/prepare.js';
import { jsonOutput } from '../../json-output.js';
import type { Output } from '../../system/output.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerPlan(program: Command, io: Output, done: (code: number) => void): void {
  program
    .command('plan')
    .description('show what a run would do: steps, rendered inputs (secrets as ***), budgets against the RTO')
    .argument('<runbook>', 'runbook YAML file')
    .requiredOption('-e, --env <name>', 'environment of the inventory')
    .option('-i, --inventory <file>', 'inventory file (default: the local lab’s)')
    .option('--set <key=value>', 'set an input (repeatable)', collect, [] as string[])
    .option('--json', 'the plan as JSON')
    .action((runbookFile, options) => {
      const prepared = prepareRun({
        runbookFile,
        inventoryFile: options.inventory,
        envName: options.env,
        inputs: parseSets(options.set),
      });
      const plan = buildPlan(prepared);
      io.out(options.json ? jsonOutput(plan, 2) : formatPlan(plan));
      done(ExitCode.ok);
    });
}
