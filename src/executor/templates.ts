/**
 * The `{{ path }}` template engine of node configs (WORKFLOWS.md "Templates").
 *
 * A string that is exactly one reference keeps the referenced value's JSON type; any
 * other string gets each reference written into it. Resolution is a single pass over
 * the config: resolved values are never themselves templated, so data coming from a
 * request cannot inject references. Object keys are never templated.
 */
import { NodeError, type TemplateScope } from './node-type';

/** The roots a reference may start at. */
export const TEMPLATE_ROOTS = ['request', 'input', 'nodes', 'secrets', 'item', 'index'] as const;
export type TemplateRoot = (typeof TEMPLATE_ROOTS)[number];

/** A reference found in a config by `templateRefs`. */
export interface TemplateRef {
  /** The reference's segments, e.g. `['nodes', 'insert', 'id']`. */
  path: string[];
  /** JSON pointer of the string holding the reference inside the config, e.g. `/body/id`. */
  pointer: string;
}

// A segment is anything but `.`, `}` and white space; segments are joined by dots.
const SEGMENT = String.raw`[^\s.}]+`;
const REFERENCE = String.raw`\{\{\s*(${SEGMENT}(?:\.${SEGMENT})*)\s*\}\}`;
const EXACT = new RegExp(`^${REFERENCE}$`);
const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/;

function references(s: string): RegExpMatchArray[] {
  return s.includes('{{') ? [...s.matchAll(new RegExp(REFERENCE, 'g'))] : [];
}

/** A reference as written, for error messages: `{{ nodes.a.b }}`. */
function show(path: string[]): string {
  return `{{ ${path.join('.')} }}`;
}

function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function fail(path: string[], why: string): never {
  throw new NodeError('template_error', `template ${show(path)}: ${why}`, { path: path.join('.') });
}

/**
 * Look up one reference in the scope. Throws `template_error` naming the path when
 * anything along it is missing. Messages never carry a value (a secret may be one).
 */
function lookup(path: string[], scope: TemplateScope): unknown {
  const [root, ...rest] = path as [string, ...string[]];
  let value: unknown;
  let from: number; // index in `path` of the first segment still to walk
  switch (root) {
    case 'request':
    case 'input':
      if (scope[root] === undefined) fail(path, `"${root}" is not defined here`);
      value = scope[root];
      from = 1;
      break;
    case 'nodes':
    case 'secrets': {
      const name = rest[0];
      const table: Record<string, unknown> = scope[root];
      if (name === undefined) fail(path, root === 'nodes' ? 'name a node: nodes.<id>' : 'name a secret: secrets.<NAME>');
      if (!hasOwn(table, name) || table[name] === undefined)
        fail(path, root === 'nodes' ? `node "${name}" has no output (it has not run)` : `secret "${name}" is not defined`);
      value = table[name];
      from = 2;
      break;
    }
    case 'item':
    case 'index':
      if (scope[root] === undefined) fail(path, `"${root}" is only defined inside a loop body`);
      value = scope[root];
      from = 1;
      break;
    default:
      fail(path, `unknown root "${root}" (use ${TEMPLATE_ROOTS.join(', ')})`);
  }
  for (let i = from; i < path.length; i++) {
    const seg = path[i]!;
    const at = path.slice(0, i).join('.');
    if (Array.isArray(value)) {
      if (!ARRAY_INDEX.test(seg)) fail(path, `${at} is an array: "${seg}" is not an element number`);
      const n = Number(seg);
      if (n >= value.length) fail(path, `${at} has ${value.length} element(s), no element ${seg}`);
      value = value[n];
    } else if (value !== null && typeof value === 'object') {
      if (!hasOwn(value, seg) || (value as Record<string, unknown>)[seg] === undefined) fail(path, `${at} has no "${seg}"`);
      value = (value as Record<string, unknown>)[seg];
    } else {
      fail(path, `cannot read "${seg}" of ${at}, which is ${describe(value)}`);
    }
  }
  return value;
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function resolveString(s: string, scope: TemplateScope): unknown {
  const exact = EXACT.exec(s);
  if (exact) return lookup(exact[1]!.split('.'), scope);
  if (!s.includes('{{')) return s;
  return s.replace(new RegExp(REFERENCE, 'g'), (_m, ref: string) => stringify(lookup(ref.split('.'), scope)));
}

/**
 * Resolve every `{{ path }}` reference in a config, deeply. Returns a new value; the
 * argument is not modified. Strings that are exactly one reference (white space
 * allowed inside the braces only) take the referenced value with its JSON type; other
 * strings get each value written in (strings as they are, objects and arrays as JSON,
 * `null` as `null`). Text that only looks like a reference (`{{ a..b }}`, `{{}}`) is
 * left as it is.
 *
 * @throws NodeError `template_error` when a reference names something missing: an
 *   unknown root, a node without output, an undefined secret, a missing key or array
 *   element, `item`/`index` outside a loop. The message names the path, never a value.
 */
export function resolveTemplates(value: unknown, scope: TemplateScope): unknown {
  if (typeof value === 'string') return resolveString(value, scope);
  if (Array.isArray(value)) return value.map((v) => resolveTemplates(v, scope));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a `__proto__` key stays a plain key.
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveTemplates(v, scope)]));
  }
  return value;
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Every reference in a config, in document order, each with the JSON pointer of the
 * string holding it (relative to `value`; `''` when `value` itself is the string).
 * Used for static checks: a `nodes.X` reference must name a node that can have run.
 */
export function templateRefs(value: unknown): TemplateRef[] {
  const out: TemplateRef[] = [];
  const walk = (v: unknown, pointer: string): void => {
    if (typeof v === 'string') {
      for (const m of references(v)) out.push({ path: m[1]!.split('.'), pointer });
    } else if (Array.isArray(v)) {
      v.forEach((e, i) => walk(e, `${pointer}/${i}`));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, e] of Object.entries(v)) walk(e, `${pointer}/${escapePointer(k)}`);
    }
  };
  walk(value, '');
  return out;
}

/** True when `s` holds at least one `{{ path }}` reference. */
export function hasTemplate(s: string): boolean {
  return references(s).length > 0;
}

/** True when `s` is exactly one reference (and so keeps the value's JSON type). */
export function isExactTemplate(s: string): boolean {
  return EXACT.test(s);
}
