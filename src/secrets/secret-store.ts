/**
 * Loading secrets: the JSON object of `SECRETS_FILE` plus `SECRET_<NAME>` environment
 * entries (PROTOCOL.md sections 6 and 9). Imports nothing of ours.
 *
 * No error message ever contains a secret value, nor text of the secrets file that
 * could hold one.
 */
import { readFileSync } from 'node:fs';

/** A read-only set of named secrets. */
export interface SecretStore {
  /** The value of secret `name`, or `undefined`. */
  get(name: string): string | undefined;
  /** Every secret name, sorted. */
  names(): string[];
  /** Every secret value, in the order of `names()`. */
  values(): string[];
  /** Every secret as `{ name, value }`, in the order of `names()` (what `createRedactor` takes). */
  entries(): Array<{ name: string; value: string }>;
}

export interface LoadSecretsOptions {
  /** Path of a JSON object of secret name → string value (`SECRETS_FILE`); none by default. */
  secretsFile?: string;
  /** The environment; each `SECRET_<NAME>` entry adds (or overrides) secret `<NAME>`. */
  env: Record<string, string | undefined>;
}

export type SecretsErrorCode =
  | 'secrets_file_unreadable'
  | 'secrets_file_invalid'
  | 'secret_invalid_name'
  | 'secret_not_string'
  | 'secret_too_short';

/** Thrown by {@link loadSecrets}; `code` is stable, the message never shows a value. */
export class SecretsError extends Error {
  readonly code: SecretsErrorCode;
  constructor(code: SecretsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretsError';
    this.code = code;
  }
}

/** What a secret name must look like. */
export const SECRET_NAME_PATTERN = /^[A-Za-z0-9_]{1,128}$/;
/** Secrets shorter than this (in characters) are refused: they cannot be masked without masking everything. */
export const MIN_SECRET_LENGTH = 6;
const ENV_PREFIX = 'SECRET_';

/**
 * Load the secrets of `options.secretsFile` (if given) and of the `SECRET_<NAME>`
 * entries of `options.env`; an environment entry wins over the file entry of the
 * same name. Returns a frozen store.
 *
 * @throws {SecretsError} `secrets_file_unreadable` (missing or unreadable file),
 *   `secrets_file_invalid` (not JSON, or not a JSON object), `secret_invalid_name`
 *   (a name not matching `^[A-Za-z0-9_]{1,128}$`), `secret_not_string`,
 *   `secret_too_short` (fewer than 6 characters).
 */
export function loadSecrets(options: LoadSecretsOptions): SecretStore {
  const secrets = new Map<string, string>();
  if (options.secretsFile !== undefined) {
    for (const [name, value] of readSecretsFile(options.secretsFile)) secrets.set(name, value);
  }
  for (const [variable, value] of Object.entries(options.env)) {
    if (!variable.startsWith(ENV_PREFIX) || value === undefined) continue;
    const name = variable.slice(ENV_PREFIX.length);
    // Environment variable names are not secret: showing one helps find it.
    if (!SECRET_NAME_PATTERN.test(name)) {
      throw new SecretsError(
        'secret_invalid_name',
        `environment variable ${JSON.stringify(variable)}: the secret name after ${ENV_PREFIX} must match ${SECRET_NAME_PATTERN.source}`,
      );
    }
    checkLength(name, value, `environment variable ${variable}`);
    secrets.set(name, value);
  }
  return freezeStore(secrets);
}

function readSecretsFile(path: string): Array<[string, string]> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : code;
    throw new SecretsError('secrets_file_unreadable', `SECRETS_FILE ${path} cannot be read: ${why}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // The parser's message quotes the text around the error, which may be a secret:
    // only the position is passed on.
    const at = /position (\d+)/.exec((err as Error).message);
    const where = at ? ` (near character ${at[1]})` : '';
    throw new SecretsError('secrets_file_invalid', `SECRETS_FILE ${path} is not valid JSON${where}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const kind = kindOf(parsed);
    throw new SecretsError('secrets_file_invalid', `SECRETS_FILE ${path} must hold a JSON object of secret name → string value, not ${kind}`);
  }
  const out: Array<[string, string]> = [];
  let index = 0;
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    index += 1;
    if (!SECRET_NAME_PATTERN.test(name)) {
      // A malformed name may be a value pasted in the wrong place: it is described, not shown.
      throw new SecretsError(
        'secret_invalid_name',
        `SECRETS_FILE ${path}: key #${index} (${name.length} characters) is not a valid secret name; names must match ${SECRET_NAME_PATTERN.source}`,
      );
    }
    if (typeof value !== 'string') {
      throw new SecretsError('secret_not_string', `SECRETS_FILE ${path}: secret "${name}" must be a string, not ${kindOf(value)}`);
    }
    checkLength(name, value, `SECRETS_FILE ${path}`);
    out.push([name, value]);
  }
  return out;
}

/** What a JSON value is, for a message: never the value itself. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}

function checkLength(name: string, value: string, origin: string): void {
  if ([...value].length < MIN_SECRET_LENGTH) {
    throw new SecretsError(
      'secret_too_short',
      `secret "${name}" (${origin}) is shorter than ${MIN_SECRET_LENGTH} characters: it cannot be masked without masking everything`,
    );
  }
}

function freezeStore(secrets: Map<string, string>): SecretStore {
  const names = Object.freeze([...secrets.keys()].sort());
  const values = Object.freeze(names.map((n) => secrets.get(n) as string));
  const entries = Object.freeze(names.map((name, i) => Object.freeze({ name, value: values[i] as string })));
  return Object.freeze({
    get: (name: string) => secrets.get(name),
    names: () => [...names],
    values: () => [...values],
    entries: () => [...entries],
  });
}
