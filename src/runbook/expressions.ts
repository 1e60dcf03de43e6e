// `${{ ... }}` expressions: parsed by jsep (a well-kept expression parser) and evaluated by the small
// interpreter below over plain data. Never eval or new Function; no access to prototypes.
import jsepModule, { type Expression } from 'jsep';

const jsep = (jsepModule as unknown as { default?: typeof jsepModule }).default ?? jsepModule;

export const CONTEXT_ROOTS = ['inputs', 'env', 'steps', 'run', 'secrets'] as const;

const OPEN = '${{';
const CLOSE = '}}';

export interface ExpressionSite {
  /** The expression text between the braces. */
  source: string;
  /** Index of `${{` in the host string. */
  start: number;
  /** Index just past `}}`. */
  end: number;
}

export class ExpressionError extends Error {
  constructor(
    message: string,
    /** Index in the host string where the problem is. */
    readonly index: number,
  ) {
    super(message);
  }
}

/** Every `${{ ... }}` in a string; an unclosed one is an error. */
export function findExpressions(text: string): ExpressionSite[] {
  const sites: ExpressionSite[] = [];
  for (let start = text.indexOf(OPEN); start >= 0; start = text.indexOf(OPEN, start + OPEN.length)) {
    const close = text.indexOf(CLOSE, start + OPEN.length);
    if (close < 0) throw new ExpressionError('unclosed ${{ expression (missing }})', start);
    sites.push({ source: text.slice(start + OPEN.length, close), start, end: close + CLOSE.length });
  }
  return sites;
}

const parsed = new Map<string, Expression>();

/** Far beyond any real expression; bounds the parser's and the evaluator's recursion. */
export const MAX_EXPRESSION_CHARS = 1000;
export const MAX_EXPRESSION_DEPTH = 32;

/** Parses one expression (cached); syntax errors carry the index inside `site`'s host string. */
export function parseSite(site: ExpressionSite): Expression {
  let ast = parsed.get(site.source);
  if (!ast) {
    if (!site.source.trim()) throw new ExpressionError('empty ${{ }} expression', site.start);
    if (site.source.length > MAX_EXPRESSION_CHARS) {
      throw new ExpressionError(
        `expression too long (${site.source.length} characters; the limit is ${MAX_EXPRESSION_CHARS})`,
        site.start,
      );
    }
    try {
      ast = jsep(site.source);
    } catch (err) {
      const e = err as Error & { index?: number; description?: string };
      const where = site.start + OPEN.length + (e.index ?? 0);
      throw new ExpressionError(`invalid expression: ${e.description ?? e.message}`, where);
    }
    checkNodes(ast, site, 0);
    parsed.set(site.source, ast);
  }
  return ast;
}

const ALLOWED_NODES = new Set([
  'Literal',
  'Identifier',
  'MemberExpression',
  'BinaryExpression',
  'UnaryExpression',
  'ConditionalExpression',
  'ArrayExpression',
  'CallExpression',
]);

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : Object.keys(v ?? {}).length),
  contains: (list, item) => (Array.isArray(list) ? list.includes(item) : String(list).includes(String(item))),
  join: (list, sep) =>
    Array.isArray(list) ? list.join(sep === undefined ? ',' : String(sep)) : String(list),
  lower: (v) => String(v).toLowerCase(),
  upper: (v) => String(v).toUpperCase(),
};
export const FUNCTION_NAMES = Object.keys(FUNCTIONS);

function checkNodes(node: Expression, site: ExpressionSite, depth: number): void {
  const fail = (msg: string) => {
    throw new ExpressionError(msg, site.start + OPEN.length);
  };
  if (depth > MAX_EXPRESSION_DEPTH)
    fail(`expression nested too deeply (the limit is ${MAX_EXPRESSION_DEPTH})`);
  if (!ALLOWED_NODES.has(node.type)) fail(`${node.type} is not allowed in expressions`);
  if (node.type === 'CallExpression') {
    const callee = node.callee as Expression;
    if (callee.type !== 'Identifier' || !FUNCTIONS[callee.name as string]) {
      fail(`only these functions may be called: ${FUNCTION_NAMES.join(', ')}`);
    }
    for (const a of node.arguments as Expression[]) checkNodes(a, site, depth + 1);
    return;
  }
  for (const key of ['object', 'left', 'right', 'argument', 'test', 'consequent', 'alternate'] as const) {
    const child = node[key] as Expression | undefined;
    if (child) checkNodes(child, site, depth + 1);
  }
  if (node.type === 'MemberExpression' && node.computed)
    checkNodes(node.property as Expression, site, depth + 1);
  for (const el of (node.elements as (Expression | null)[] | undefined) ?? []) {
    if (!el) fail('a list may not have empty elements ([,1])');
    else checkNodes(el, site, depth + 1);
  }
}

/** ASTs are cached per source text, so their references are too: rules read them for every step. */
const referenced = new WeakMap<Expression, readonly (readonly string[])[]>();

/**
 * The context paths an expression reads, as far as they are static: `steps.pick.outputs.node`
 * gives ['steps', 'pick', 'outputs', 'node']. Identifiers that are function names are not reads.
 */
export function references(node: Expression): readonly (readonly string[])[] {
  let out = referenced.get(node);
  if (!out) referenced.set(node, (out = collectReferences(node)));
  return out;
}

function collectReferences(node: Expression): string[][] {
  const out: string[][] = [];
  const walk = (n: Expression): void => {
    const chain = memberChain(n);
    if (chain) {
      out.push(chain.path);
      chain.dynamic.forEach(walk);
      return;
    }
    if (n.type === 'CallExpression') return (n.arguments as Expression[]).forEach(walk);
    for (const key of ['left', 'right', 'argument', 'test', 'consequent', 'alternate'] as const) {
      const child = n[key] as Expression | undefined;
      if (child) walk(child);
    }
    for (const el of (n.elements as Expression[] | undefined) ?? []) if (el) walk(el);
  };
  walk(node);
  return out;
}

function memberChain(n: Expression): { path: string[]; dynamic: Expression[]; open: boolean } | undefined {
  if (n.type === 'Identifier') return { path: [n.name as string], dynamic: [], open: true };
  if (n.type !== 'MemberExpression') return undefined;
  const base = memberChain(n.object as Expression);
  if (!base) return undefined;
  const prop = n.property as Expression;
  const key = !n.computed ? (prop.name as string) : prop.type === 'Literal' ? String(prop.value) : undefined;
  if (key !== undefined) return base.open ? { ...base, path: [...base.path, key] } : base;
  // A computed key ends the static part of the path; what follows it is not known before run time.
  return { path: base.path, dynamic: [...base.dynamic, prop], open: false };
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

function member(obj: unknown, key: unknown): unknown {
  const k = String(key);
  if (obj === null || obj === undefined || FORBIDDEN_KEYS.has(k)) return undefined;
  if (typeof obj === 'string' && k === 'length') return obj.length;
  if (typeof obj !== 'object') return undefined;
  return Object.prototype.hasOwnProperty.call(obj, k) ? (obj as Record<string, unknown>)[k] : undefined;
}

const BINARY: Record<string, (a: unknown, b: unknown) => unknown> = {
  '==': (a, b) => a == b,
  '!=': (a, b) => a != b,
  '===': (a, b) => a === b,
  '!==': (a, b) => a !== b,
  '<': (a, b) => (a as number) < (b as number),
  '>': (a, b) => (a as number) > (b as number),
  '<=': (a, b) => (a as number) <= (b as number),
  '>=': (a, b) => (a as number) >= (b as number),
  '+': (a, b) => (typeof a === 'number' && typeof b === 'number' ? a + b : `${String(a)}${String(b)}`),
  '-': (a, b) => Number(a) - Number(b),
  '*': (a, b) => Number(a) * Number(b),
  '/': (a, b) => Number(a) / Number(b),
  '%': (a, b) => Number(a) % Number(b),
};

export type Context = Record<string, unknown>;

export function evaluate(node: Expression, ctx: Context): unknown {
  switch (node.type) {
    case 'Literal':
      return node.value;
    case 'Identifier':
      return member(ctx, node.name);
    case 'MemberExpression': {
      const obj = evaluate(node.object as Expression, ctx);
      const prop = node.property as Expression;
      return member(obj, node.computed ? evaluate(prop, ctx) : prop.name);
    }
    case 'UnaryExpression': {
      const v = evaluate(node.argument as Expression, ctx);
      if (node.operator === '!') return !v;
      if (node.operator === '-') return -Number(v);
      if (node.operator === '+') return Number(v);
      break;
    }
    case 'BinaryExpression': {
      const op = node.operator as string;
      const left = evaluate(node.left as Expression, ctx);
      if (op === '&&') return left && evaluate(node.right as Expression, ctx);
      if (op === '||') return left || evaluate(node.right as Expression, ctx);
      if (op === '??') return left ?? evaluate(node.right as Expression, ctx);
      const fn = BINARY[op];
      if (fn) return fn(left, evaluate(node.right as Expression, ctx));
      break;
    }
    case 'ConditionalExpression':
      return evaluate(node.test as Expression, ctx)
        ? evaluate(node.consequent as Expression, ctx)
        : evaluate(node.alternate as Expression, ctx);
    case 'ArrayExpression':
      return (node.elements as Expression[]).map((e) => evaluate(e, ctx));
    case 'CallExpression': {
      const fn = FUNCTIONS[(node.callee as Expression).name as string]!;
      return fn(...(node.arguments as Expression[]).map((a) => evaluate(a, ctx)));
    }
  }
  throw new ExpressionError(`unsupported expression (${node.type} ${String(node.operator ?? '')})`, 0);
}

/** Renders one string: a lone `${{ x }}` keeps x's type (a list stays a list); else interpolation. */
export function renderString(text: string, ctx: Context): unknown {
  const sites = findExpressions(text);
  if (sites.length === 0) return text;
  const only = sites[0]!;
  if (sites.length === 1 && only.start === 0 && only.end === text.length)
    return evaluate(parseSite(only), ctx);
  let out = '';
  let last = 0;
  for (const site of sites) {
    const v = evaluate(parseSite(site), ctx);
    out +=
      text.slice(last, site.start) +
      (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v ?? ''));
    last = site.end;
  }
  return out + text.slice(last);
}

/** A value as a bound SQL parameter: scalars as they are, lists and objects as JSON text. */
const asParameter = (v: unknown) =>
  v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : v;

/**
 * Renders SQL text: each `${{ }}` becomes a placeholder `$n` (numbered after `offset` existing ones)
 * and its value goes into `values`, sent apart from the text so the server never parses it as SQL.
 */
export function renderSql(text: string, ctx: Context, offset: number): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  let out = '';
  let last = 0;
  for (const site of findExpressions(text)) {
    values.push(asParameter(evaluate(parseSite(site), ctx)));
    out += `${text.slice(last, site.start)}$${offset + values.length}`;
    last = site.end;
  }
  return { text: out + text.slice(last), values };
}

/** Applies `fn` to every string inside a value, keeping its shape. */
export function mapStrings(value: unknown, fn: (text: string) => unknown): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  }
  return value;
}

/** Renders every string inside a value (the `with:` block of a step). */
export const render = (value: unknown, ctx: Context) => mapStrings(value, (t) => renderString(t, ctx));
