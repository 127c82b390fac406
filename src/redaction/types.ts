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

export interface Redactor {
  /** Deep copy of `value` with every secret form and every sensitive key's value replaced by `[REDACTED]` (keys are redacted too). */
  redact<T>(value: T): T;
  /** Value-based redaction of one string. */
  redactText(text: string): string;
  /** Add a secret (a credential created during the run); rebuilds the matcher. Refuses < 6 chars. */
  addSecret(secret: string): void;
}
