/** Secrets: loading from `SECRETS_FILE` and `SECRET_<NAME>` (PROTOCOL.md sections 6 and 9). */
export {
  loadSecrets,
  SecretsError,
  SECRET_NAME_PATTERN,
  MIN_SECRET_LENGTH,
  type LoadSecretsOptions,
  type SecretStore,
  type SecretsErrorCode,
} from './secret-store';
