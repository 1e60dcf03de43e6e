// The router-config check of `verify`: does an HAProxy router let new clients fail fast on a dead
// or fenced server, or hold them (issue 15: 2-3 s inside HAProxy after a primary was killed)?
// What the runtime API shows (servers, whether they are checked, check rise/fall) is read from it;
// what it does not show (retries, option redispatch, timeout connect, check intervals, observe,
// on-error, on-marked-down) is read from the configuration files the running HAProxy was started
// with (found through its PID), or from `config`. Settings that cannot be read are a warning too.
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { HaproxyRuntime, inventoryRouter } from '../connectors/haproxy.js';
import { backendSettings, type BackendSettings, type ServerParams } from '../connectors/haproxy-config.js';
import { formatDuration } from '../duration.js';
import { StepFailure, errorMessage } from '../errors.js';
import type { ActionContext } from './types.js';

export interface RouterConfigInput {
  router: string;
  backend?: string;
  config?: string;
  strict?: boolean;
}

/** HAProxy's own defaults for what the configuration leaves unset. */
const HAPROXY_DEFAULTS = { retries: 3, interMs: 2000, rise: 2, fall: 3, onError: 'fail-check' };
/** A blackholed server holds a new client this long per connect attempt; above it, a warning. */
const MAX_TIMEOUT_CONNECT_MS = 1000;
/** From the first failed check to DOWN (inter, then fastinter): above it, a warning. */
const MAX_DETECT_MS = 2000;
/** From a route switch to UP again (rise x downinter): above it, a warning. */
const MAX_BACK_UP_MS = 1000;
/** HAProxy waits min(timeout connect, 1 s) before retrying the same server. */
const RETRY_TURNAROUND_MS = 1000;

export async function checkRouterConfig(ctx: ActionContext, input: RouterConfigInput) {
  const router = inventoryRouter(ctx.env, input.router);
  const backend = input.backend ?? router.backend;
  const api = new HaproxyRuntime(router.socket, { signal: ctx.signal });
  const states = await api.showServersState(backend);
  if (!states.length) throw new StepFailure(`router ${input.router}: backend ${backend} has no servers`);
  const stats = await api.showStat(backend);
  const warnings: string[] = [];

  const source = await configSource(api, input.config);
  const settings = source.text === undefined ? undefined : backendSettings(source.text, backend);
  if (source.text === undefined) {
    warnings.push(
      `the configuration could not be read (${source.why}): retries, option redispatch, timeout connect, check intervals, observe and on-marked-down are not shown by the runtime API and were NOT checked; give the file as config`,
    );
  } else if (!settings) {
    warnings.push(
      `${source.files.join(', ')} has no backend ${backend}: the settings the runtime API does not show were NOT checked`,
    );
  }
  if (settings) warnings.push(...backendWarnings(settings));

  const servers = states.map((s) => {
    const stat = stats.find((r) => r.svname === s.server);
    // The runtime's check, rise and fall win over the file: the file may have changed since the start.
    const checked = Boolean(stat?.check_status);
    const params: ServerParams = settings?.servers[s.server] ?? {};
    const rise = Number(stat?.check_rise) || (params.rise ?? HAPROXY_DEFAULTS.rise);
    const fall = Number(stat?.check_fall) || (params.fall ?? HAPROXY_DEFAULTS.fall);
    if (!checked) {
      warnings.push(
        `server ${backend}/${s.server} has no health check: it is never marked DOWN, so new clients keep being sent to it when it dies`,
      );
    }
    if (settings) {
      if (!settings.servers[s.server]) {
        warnings.push(
          `server ${backend}/${s.server} is not in the configuration file (added at runtime?): its check settings were NOT checked`,
        );
      } else if (checked) warnings.push(...serverWarnings(`${backend}/${s.server}`, params, rise, fall));
    }
    return {
      server: s.server,
      addr: s.addr,
      port: s.port,
      check: checked,
      rise,
      fall,
      ...(params.interMs !== undefined && { interMs: params.interMs }),
      ...(params.fastinterMs !== undefined && { fastinterMs: params.fastinterMs }),
      ...(params.downinterMs !== undefined && { downinterMs: params.downinterMs }),
      ...(params.observe !== undefined && { observe: params.observe }),
      ...(params.errorLimit !== undefined && { errorLimit: params.errorLimit }),
      ...(params.onError !== undefined && { onError: params.onError }),
      ...(params.onMarkedDown !== undefined && { onMarkedDown: params.onMarkedDown }),
    };
  });

  const what = `router ${input.router} backend ${backend}`;
  if (warnings.length === 0) {
    ctx.log(
      `${what}: new clients fail fast on a dead or fenced server (read from the runtime API and ${source.files.join(', ')})`,
    );
  }
  const warn = ctx.warn ?? ctx.log;
  for (const w of warnings) warn(`${what}: ${w}`);
  if (input.strict && warnings.length) {
    throw new StepFailure(
      `${what}: ${warnings.length} setting(s) can make clients hang (strict): ${warnings.join('; ')}`,
    );
  }
  return {
    router: input.router,
    backend,
    configFiles: source.files,
    ...(settings?.retries !== undefined && { retries: settings.retries }),
    ...(settings?.redispatch !== undefined && { redispatch: settings.redispatch }),
    ...(settings?.timeoutConnectMs !== undefined && { timeoutConnectMs: settings.timeoutConnectMs }),
    servers,
    warnings,
  };
}

/** Backend-wide settings that hold a new client on a dead server. */
function backendWarnings(settings: BackendSettings): string[] {
  const warnings: string[] = [];
  const retries = settings.retries ?? HAPROXY_DEFAULTS.retries;
  const connectMs = settings.timeoutConnectMs;
  if (retries > 0) {
    const waitMs = retries * Math.min(connectMs ?? RETRY_TURNAROUND_MS, RETRY_TURNAROUND_MS);
    warnings.push(
      `retries ${retries}${settings.retries === undefined ? ' (HAProxy default)' : ''}: a new client to a dead server waits about ${formatDuration(waitMs)} while HAProxy retries it` +
        `${settings.redispatch ? '' : ' (without option redispatch, always the same server)'}; use retries 0 and let the client reconnect`,
    );
  }
  if (connectMs === undefined) {
    warnings.push(
      'no timeout connect: a new client to a blackholed server waits until the kernel gives up (minutes)',
    );
  } else if (connectMs > MAX_TIMEOUT_CONNECT_MS) {
    warnings.push(
      `timeout connect ${formatDuration(connectMs)}: a new client to a blackholed server waits ${formatDuration(connectMs * (retries + 1))}; use ${formatDuration(MAX_TIMEOUT_CONNECT_MS)} or less`,
    );
  }
  return warnings;
}

/** Check and observe settings of one checked server. */
function serverWarnings(slot: string, p: ServerParams, rise: number, fall: number): string[] {
  const warnings: string[] = [];
  const interMs = p.interMs ?? HAPROXY_DEFAULTS.interMs;
  const detectMs = interMs + (fall - 1) * (p.fastinterMs ?? interMs);
  if (detectMs > MAX_DETECT_MS) {
    warnings.push(
      `server ${slot}: inter ${formatDuration(interMs)}, fastinter ${formatDuration(p.fastinterMs ?? interMs)}, fall ${fall}: a dead server is marked DOWN only after about ${formatDuration(detectMs)}`,
    );
  }
  const backUpMs = rise * (p.downinterMs ?? interMs);
  if (backUpMs > MAX_BACK_UP_MS) {
    warnings.push(
      `server ${slot}: downinter ${formatDuration(p.downinterMs ?? interMs)}, rise ${rise}: after a route switch it is UP only after about ${formatDuration(backUpMs)}`,
    );
  }
  const onError = p.onError ?? HAPROXY_DEFAULTS.onError;
  if (p.observe !== 'layer4' || (onError !== 'mark-down' && onError !== 'sudden-death')) {
    warnings.push(
      `server ${slot}: no observe layer4 with on-error mark-down: until the checks notice, every new client still tries the dead server (a blackholed one holds each for timeout connect)`,
    );
  }
  if (p.onMarkedDown !== 'shutdown-sessions') {
    warnings.push(
      `server ${slot}: no on-marked-down shutdown-sessions: sessions on a server marked DOWN (blackholed, fenced) hang until timeout server`,
    );
  }
  return warnings;
}

/** The configuration text: the given file, or the files the running HAProxy was started with. */
async function configSource(
  api: HaproxyRuntime,
  given: string | undefined,
): Promise<{ files: string[]; text?: string; why?: string }> {
  let files: string[];
  try {
    files = given ? [given] : startupConfigFiles(Number((await api.showInfo()).Pid));
  } catch (err) {
    return { files: [], why: errorMessage(err) };
  }
  try {
    const expanded = files.flatMap((f) =>
      statSync(f).isDirectory()
        ? readdirSync(f)
            .filter((n) => n.endsWith('.cfg'))
            .sort()
            .map((n) => join(f, n))
        : [f],
    );
    return { files: expanded, text: expanded.map((f) => readFileSync(f, 'utf8')).join('\n') };
  } catch (err) {
    return { files, why: errorMessage(err) };
  }
}

/**
 * The -f arguments of the HAProxy process (its runtime socket is a Unix socket, so it runs on this
 * machine). In another PID namespace (a container) the PID does not match: then give `config`.
 */
function startupConfigFiles(pid: number): string[] {
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  if (!basename(args[0] ?? '').startsWith('haproxy')) {
    throw new Error(
      `process ${pid} (from show info) is ${args[0] ?? 'unknown'} here, not haproxy: another PID namespace?`,
    );
  }
  const cwd = readlinkSync(`/proc/${pid}/cwd`);
  const files = args.flatMap((a, i) =>
    args[i - 1] === '-f' ? [a] : a.startsWith('-f') && a.length > 2 ? [a.slice(2)] : [],
  );
  if (!files.length) throw new Error(`haproxy process ${pid} was started without -f`);
  return files.map((f) => (isAbsolute(f) ? f : join(cwd, f)));
}
