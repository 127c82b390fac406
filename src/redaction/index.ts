/** Redaction: the single egress filter for frames, stored history and logs (PROTOCOL.md section 6). */
export { DEFAULT_SENSITIVE_KEYS, REDACTED, type NamedSecret, type Redactor } from './types';
export { createRedactor, SecretRefusedError, type RedactorOptions } from './redactor';
export { MIN_SECRET_LENGTH, secretForms } from './secret-forms';
