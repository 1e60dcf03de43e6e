// A minimal valid drill file's text, ending with `tail` (its schedule block, if any).
import { resolve } from 'node:path';

export const drillYaml = (name: string, tail: string) => `apiVersion: drillbook/v1
kind: Drill
metadata: { name: ${name} }
runbook: ${resolve('runbooks/pg-failover.yaml')}
environment: lab
fault: { kind: kill-postgres, target: primary }
objectives: { rto: 10s, rpo: 0 }
${tail}
`;
