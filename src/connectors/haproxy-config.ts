// The HAProxy settings that decide whether a client hangs on a dead server, read from the
// configuration text: the runtime API shows servers, their state and check rise/fall, but not
// retries, option redispatch, timeout connect, check intervals, observe or on-marked-down.
// Only those keywords are read; everything else in the file is skipped.

/** The per-server keywords that matter here (server line over default-server over defaults). */
export interface ServerParams {
  check?: boolean;
  interMs?: number;
  fastinterMs?: number;
  downinterMs?: number;
  rise?: number;
  fall?: number;
  observe?: string;
  errorLimit?: number;
  onError?: string;
  onMarkedDown?: string;
  onMarkedUp?: string;
}

/** A backend's settings as HAProxy applies them; absent = not set anywhere (HAProxy's default). */
export interface BackendSettings {
  retries?: number;
  redispatch?: boolean;
  /** Absent: no `timeout connect`, which HAProxy treats as unlimited. */
  timeoutConnectMs?: number;
  servers: Record<string, ServerParams>;
}

interface Section {
  kind: string;
  name: string;
  /** A backend's or listen's named defaults section (`from NAME`). */
  from?: string;
  retries?: number;
  redispatch?: boolean;
  timeoutConnectMs?: number;
  defaultServer: ServerParams;
  servers: Record<string, ServerParams>;
}

const SECTION_KEYWORDS = new Set([
  'global',
  'defaults',
  'frontend',
  'backend',
  'listen',
  'resolvers',
  'peers',
  'userlist',
  'mailers',
  'program',
  'http-errors',
  'ring',
  'cache',
]);
const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An HAProxy time value: a number with an optional unit, milliseconds when it has none. */
export function haproxyTimeMs(value: string): number | undefined {
  const m = /^(\d+)(us|ms|s|m|h|d)?$/.exec(value);
  return m ? Number(m[1]) * UNIT_MS[m[2] ?? 'ms']! : undefined;
}

/**
 * The settings of `backend` (a backend or listen section) in the given configuration text (the
 * files HAProxy loads, concatenated in its order), or undefined when it has no such section.
 */
export function backendSettings(text: string, backend: string): BackendSettings | undefined {
  const sections = parseSections(text);
  const index = sections.findIndex(
    (s) => (s.kind === 'backend' || s.kind === 'listen') && s.name === backend,
  );
  if (index < 0) return undefined;
  const own = sections[index]!;
  // A proxy takes its settings from the named defaults section, else the last one before it.
  const defaults = own.from
    ? sections.find((s) => s.kind === 'defaults' && s.name === own.from)
    : sections
        .slice(0, index)
        .reverse()
        .find((s) => s.kind === 'defaults');
  const defaultServer = { ...defaults?.defaultServer, ...own.defaultServer };
  const servers = Object.fromEntries(
    Object.entries(own.servers).map(([name, params]) => [name, { ...defaultServer, ...params }]),
  );
  const pick = <K extends 'retries' | 'redispatch' | 'timeoutConnectMs'>(key: K) =>
    own[key] ?? defaults?.[key];
  return {
    ...defined({
      retries: pick('retries'),
      redispatch: pick('redispatch'),
      timeoutConnectMs: pick('timeoutConnectMs'),
    }),
    servers,
  };
}

function parseSections(text: string): Section[] {
  const sections: Section[] = [];
  let current: Section | undefined;
  for (const raw of text.split('\n')) {
    const words = raw
      .replace(/(^|\s)#.*$/, '')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    const [keyword, ...args] = words;
    if (!keyword) continue;
    if (SECTION_KEYWORDS.has(keyword)) {
      const fromAt = args.indexOf('from');
      current = {
        kind: keyword,
        name: args[0] && args[0] !== 'from' ? args[0] : '',
        ...(fromAt >= 0 && args[fromAt + 1] && { from: args[fromAt + 1] }),
        defaultServer: {},
        servers: {},
      };
      sections.push(current);
      continue;
    }
    if (!current || !['defaults', 'backend', 'listen'].includes(current.kind)) continue;
    applyKeyword(current, keyword, args);
  }
  return sections;
}

function applyKeyword(section: Section, keyword: string, args: string[]): void {
  if (keyword === 'retries' && args[0]) section.retries = Number(args[0]);
  else if (keyword === 'option' && args[0] === 'redispatch') section.redispatch = true;
  else if (keyword === 'no' && args[0] === 'option' && args[1] === 'redispatch') section.redispatch = false;
  else if (keyword === 'timeout' && args[0] === 'connect' && args[1]) {
    section.timeoutConnectMs = haproxyTimeMs(args[1]);
  } else if (keyword === 'default-server') Object.assign(section.defaultServer, serverParams(args));
  else if (keyword === 'server' && args[0]) section.servers[args[0]] = serverParams(args.slice(2));
}

const NUMBER_PARAMS = { rise: 'rise', fall: 'fall', 'error-limit': 'errorLimit' } as const;
const TIME_PARAMS = { inter: 'interMs', fastinter: 'fastinterMs', downinter: 'downinterMs' } as const;
const WORD_PARAMS = {
  observe: 'observe',
  'on-error': 'onError',
  'on-marked-down': 'onMarkedDown',
  'on-marked-up': 'onMarkedUp',
} as const;

function serverParams(args: string[]): ServerParams {
  const params: ServerParams = {};
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const value = args[i + 1] ?? '';
    if (word === 'check') params.check = true;
    else if (word === 'no-check') params.check = false;
    else if (word in NUMBER_PARAMS) params[NUMBER_PARAMS[word as keyof typeof NUMBER_PARAMS]] = Number(value);
    else if (word in TIME_PARAMS)
      params[TIME_PARAMS[word as keyof typeof TIME_PARAMS]] = haproxyTimeMs(value);
    else if (word in WORD_PARAMS) params[WORD_PARAMS[word as keyof typeof WORD_PARAMS]] = value;
    else continue;
    if (word !== 'check' && word !== 'no-check') i++;
  }
  return defined(params);
}

/** Drops undefined values, so a later spread never overwrites a setting with "unset". */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
