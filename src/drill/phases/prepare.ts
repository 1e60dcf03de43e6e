// Prepare: the drill's objectives, probe route and fault resolved once, and `drill-started` said.
import type { Output } from '../../system/output.js';
import { parseDuration } from '../../duration.js';
import type { RunEvent } from '../../engine/events.js';
import type { WrapContext } from '../../engine/session.js';
import { resolveNode } from '../../schema/inventory.js';
import type { Runbook } from '../../runbook/schema.js';
import type { LoadedDrill } from '../load-drill.js';
import { clientProfiles, judgedProfile, profileTimeouts } from '../client-profiles.js';
import { probeRoute } from '../probe-route.js';
import { drillFault } from './fault.js';
import type { DrillOptions, DrillState } from './state.js';

const DEFAULT_INTERVAL_MS = 50;

export function prepareDrill(
  loaded: LoadedDrill,
  runbook: Runbook,
  runId: string,
  stateDir: string,
  options: DrillOptions,
  io: Output,
  w: WrapContext,
): DrillState {
  const { drill, env } = loaded;
  const events: RunEvent[] = [];
  w.emitter.subscribe((e) => events.push(e));
  const node = drill.fault ? resolveNode(env, drill.fault.target) : env.primary;
  const clients = clientProfiles(drill.probe).map((profile) => ({
    profile,
    route: probeRoute(env, drill.probe, w.secret, profile.via),
  }));
  const judged = judgedProfile(drill);
  const s: DrillState = {
    loaded,
    runbook,
    runId,
    stateDir,
    options,
    io,
    w,
    events,
    clockOffset: performance.now() - w.emitter.now(),
    objectives: {
      rtoMs: parseDuration(drill.objectives.rto) ?? 0,
      rpoRows: drill.objectives.rpo,
      profile: judged,
      ...(drill.objectives.restoreOutage !== undefined && {
        restoreOutageMs: parseDuration(drill.objectives.restoreOutage) ?? 0,
      }),
      ...(drill.objectives.splitBrain === 'expected' && { splitBrainExpected: true }),
    },
    intervalMs: parseDuration(drill.probe?.interval ?? '') ?? DEFAULT_INTERVAL_MS,
    route: probeRoute(env, drill.probe, w.secret),
    clients,
    judged,
    probes: [],
    node,
    fault: drillFault(loaded, node, runId, stateDir, w),
    stop: new AbortController(),
    faultAt: performance.now(),
  };
  w.emitter.emit({
    type: 'drill-started',
    drill: { name: drill.metadata.name, path: loaded.file },
    fault: { kind: drill.fault?.kind ?? 'none', node, durationMs: s.fault.ctx.durationMs },
    objectives: s.objectives,
    probe: {
      route: s.route.description,
      intervalMs: s.intervalMs,
      clients: clients.map(
        ({ profile: p, route }) => `${p.name} (${route.description}; ${profileTimeouts(p)})`,
      ),
    },
  });
  return s;
}
