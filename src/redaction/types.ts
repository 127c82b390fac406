/**
 * The redaction interface: the single egress filter for frames, stored history and logs
 * (PROTOCOL.md section 6). Imports nothing of ours.
 */

export const REDACTED = '[REDACTED]';

/** Default sensitive key fragments (case-insensitive "contains"). */
export const DEFAULT_SENSITIVE_KEYS: readonly string[] = [
  'password', 'passwd', 'secret', 'token', 'apikey', 'api_key', 'authorization',
  'cookie', 'private_key', 'credential', 'session',
];

/**
 * A secret together with the name it is known by (`SECRET_<NAME>`, a key of
 * `SECRETS_FILE`). The name is what error messages show; the value never is.
 */
export interface NamedSecret {
  readonly name: string;
  readonly value: string;
}

export interface Redactor {
  /** Deep copy of `value` with every secret form and every sensitive key's value replaced by `[REDACTED]` (keys are redacted too). */
  redact<T>(value: T): T;
  /** Value-based redaction of one string. */
  redactText(text: string): string;
  /** Add a secret (a credential created during the run); rebuilds the matcher. Refuses < 6 chars. */
  addSecret(secret: string | NamedSecret): void;
}
