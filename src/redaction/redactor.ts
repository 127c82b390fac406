/**
 * The redactor: the single egress filter for frames, stored history and logs
 * (PROTOCOL.md section 6). Value-based (every form of every secret, inside any string)
 * and key-based (the whole value of a sensitive key). Imports nothing of ours but
 * its own files.
 */
import { compileMatcher, type Matcher } from './matcher';
import { MIN_SECRET_LENGTH, codePointLength, secretForms } from './secret-forms';
import { DEFAULT_SENSITIVE_KEYS, REDACTED, type NamedSecret, type Redactor } from './types';

export interface RedactorOptions {
  /** The secrets to mask: plain values, or `{ name, value }` so that errors can name them. */
  secrets: Iterable<string | NamedSecret>;
  /**
   * Key fragments (case-insensitive "contains") whose key's value is replaced whole.
   * Default {@link DEFAULT_SENSITIVE_KEYS}; `[]` turns key-based redaction off.
   */
  sensitiveKeys?: readonly string[];
  /**
   * Nesting depth beyond which a value is replaced by `[REDACTED]` without being
   * looked at (fail closed). Default 512.
   */
  maxDepth?: number;
}

/** Thrown when a secret cannot be loaded into a redactor. `code` is stable. */
export class SecretRefusedError extends Error {
  readonly code: 'secret_too_short' | 'secret_not_string';
  constructor(code: SecretRefusedError['code'], message: string) {
    super(message);
    this.name = 'SecretRefusedError';
    this.code = code;
  }
}

/** What a circular reference is replaced by (never produced by JSON input). */
const CIRCULAR = '[Circular]';

/**
 * Create a redactor that knows `options.secrets`.
 *
 * `redact(value)` returns a deep copy in which every string (object keys included)
 * has each form of each secret (see `secretForms`) replaced by `[REDACTED]`, and the
 * value of each key that contains a sensitive fragment is `[REDACTED]` whatever its
 * type. Numbers are left alone unless their decimal form contains a secret (a
 * digits-only secret); other non-string primitives are unchanged. Errors become
 * `{ name, message, stack, ...own properties }`; objects with `toJSON` (Date,
 * Buffer) are redacted as their JSON form. The input is never mutated.
 *
 * @throws {SecretRefusedError} `secret_too_short` when a secret is shorter than
 *   6 characters (named by its `name`, or by its position; never shown), or
 *   `secret_not_string`.
 * @throws {Error} when a sensitive key fragment is empty (it would match every key).
 */
export function createRedactor(options: RedactorOptions): Redactor {
  const maxDepth = options.maxDepth ?? 512;
  const fragments = options.sensitiveKeys ?? DEFAULT_SENSITIVE_KEYS;
  if (fragments.some((f) => typeof f !== 'string' || f.length === 0)) {
    throw new Error('sensitiveKeys: every key fragment must be a non-empty string (an empty one would match every key)');
  }
  const sensitiveKey =
    fragments.length === 0 ? undefined : new RegExp(fragments.map(escapeRegExp).join('|'), 'i');

  /** Each secret with its forms, computed once (addSecret rebuilds only the matcher). */
  const secrets = new Map<string, readonly string[]>();
  let position = 0;
  for (const secret of options.secrets) {
    position += 1;
    const value = checkSecret(secret, `#${position} of the list`);
    if (!secrets.has(value)) secrets.set(value, secretForms(value));
  }

  let matcher: Matcher | undefined;
  /** True when some form could occur inside the decimal form of a number. */
  let numeric = false;
  const rebuild = (): void => {
    const forms = [...secrets.values()].flat();
    matcher = compileMatcher(forms);
    numeric = forms.some((f) => /^[-+.0-9eE]+$/.test(f) || /Infinity|NaN/.test(f));
  };
  rebuild();

  const redactText = (text: string): string => {
    if (typeof text !== 'string' || matcher === undefined) return text;
    return matcher.replace(text, REDACTED);
  };

  const walk = (value: unknown, depth: number, ancestors: Set<object>): unknown => {
    switch (typeof value) {
      case 'string':
        return redactText(value);
      case 'number':
      case 'bigint':
        return numeric && matcher !== undefined && matcher.test(String(value)) ? REDACTED : value;
      case 'object':
        break;
      default:
        return value;
    }
    if (value === null) return null;
    if (depth >= maxDepth) return REDACTED;
    if (ancestors.has(value)) return CIRCULAR;

    let source: object = value;
    if (value instanceof Error) {
      source = errorToPlain(value);
    } else if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      const json: unknown = (value as { toJSON: () => unknown }).toJSON();
      if (json !== value) return walk(json, depth, ancestors);
    }

    ancestors.add(value);
    try {
      if (Array.isArray(source)) {
        const out: unknown[] = new Array(source.length);
        for (let i = 0; i < source.length; i += 1) out[i] = walk(source[i], depth + 1, ancestors);
        return out;
      }
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(source)) {
        const item = (source as Record<string, unknown>)[key];
        const redacted = sensitiveKey !== undefined && sensitiveKey.test(key) ? REDACTED : walk(item, depth + 1, ancestors);
        setOwn(out, uniqueKey(out, redactText(key)), redacted);
      }
      return out;
    } finally {
      ancestors.delete(value);
    }
  };

  return {
    redact<T>(value: T): T {
      return walk(value, 0, new Set()) as T;
    },
    redactText,
    addSecret(secret: string | NamedSecret): void {
      const checked = checkSecret(secret, 'added at run time');
      if (secrets.has(checked)) return;
      secrets.set(checked, secretForms(checked));
      rebuild();
    },
  };
}

/** Validates one secret and returns its value; `unnamed` describes it when it has no name. */
function checkSecret(secret: string | NamedSecret, unnamed: string): string {
  const named = typeof secret === 'object' && secret !== null;
  const value: unknown = named ? secret.value : secret;
  const label = named && typeof secret.name === 'string' ? `secret "${secret.name}"` : `secret ${unnamed}`;
  if (typeof value !== 'string') {
    throw new SecretRefusedError('secret_not_string', `${label} is not a string`);
  }
  if (codePointLength(value) < MIN_SECRET_LENGTH) {
    throw new SecretRefusedError(
      'secret_too_short',
      `${label} is shorter than ${MIN_SECRET_LENGTH} characters: it cannot be masked without masking everything`,
    );
  }
  return value;
}

/** Two keys that redact to the same text must not overwrite each other. */
function uniqueKey(out: Record<string, unknown>, key: string): string {
  if (!Object.prototype.hasOwnProperty.call(out, key)) return key;
  for (let n = 2; ; n += 1) {
    const candidate = `${key}#${n}`;
    if (!Object.prototype.hasOwnProperty.call(out, candidate)) return candidate;
  }
}

/** Assigns an own property, also for `__proto__` (which JSON.parse yields as a plain key). */
function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

function errorToPlain(err: Error): Record<string, unknown> {
  const plain: Record<string, unknown> = { name: err.name, message: err.message };
  if (err.stack !== undefined) plain.stack = err.stack;
  for (const key of Object.keys(err)) plain[key] = (err as unknown as Record<string, unknown>)[key];
  if (err.cause !== undefined && !('cause' in plain)) plain.cause = err.cause;
  return plain;
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}
