import { error, type Finding, type Rule } from './types.js';

/** An aws fault is an API call on a cluster: which call and which cluster must be written. */
export const drillAwsFault: Rule = {
  name: 'drill-aws-fault',
  check(ctx) {
    if (ctx.doc.kind !== 'Drill') return [];
    const fault = (ctx.doc.data as { fault?: { kind: string; action?: string; cluster?: string } }).fault;
    if (fault?.kind !== 'aws') return [];
    const findings: Finding[] = [];
    if (!fault.action) findings.push(error(['fault'], 'fault kind aws needs action (rds.failover-cluster)'));
    if (!fault.cluster)
      findings.push(error(['fault'], 'fault kind aws needs cluster (the DB cluster identifier)'));
    return findings;
  },
};
