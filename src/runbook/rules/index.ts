// The semantic rules, run in this order after the schema accepted a document.
import { budgetTotal } from './budget-total.js';
import { drillAwsFault } from './drill-aws-fault.js';
import { drillClients } from './drill-clients.js';
import { drillFaultInputs } from './drill-fault-inputs.js';
import { drillFiles } from './drill-files.js';
import { drillRestoreInputs } from './drill-restore-inputs.js';
import { drillStaging } from './drill-staging.js';
import { drillTrigger } from './drill-trigger.js';
import { durations } from './durations.js';
import { executors } from './executors.js';
import { expressions } from './expressions.js';
import { inventoryConsistency } from './inventory-consistency.js';
import { inventoryTargets } from './inventory-targets.js';
import { schedule } from './schedule.js';
import { sqlText } from './sql-text.js';
import { triggers } from './triggers.js';
import type { Rule } from './types.js';
import { uniqueStepIds } from './unique-step-ids.js';

export const rules: readonly Rule[] = [
  uniqueStepIds,
  durations,
  expressions,
  sqlText,
  budgetTotal,
  inventoryTargets,
  inventoryConsistency,
  drillStaging,
  drillFiles,
  drillFaultInputs,
  drillRestoreInputs,
  drillAwsFault,
  drillClients,
  drillTrigger,
  schedule,
  executors,
  triggers,
];
