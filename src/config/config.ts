/**
 * loadConfig(env): the only reader of process.env (PROTOCOL.md section 9).
 * Every setting is validated once against a JSON Schema that holds the defaults,
 * then frozen. Each limit is documented in the README's configuration table.
 */
import Ajv from 'ajv';
import { RuncastError } from '../protocol/errors';

export interface Config {
  port: number;
  host: string;
  authJwtSecret: string | null;
  allowedOrigins: string[] | null;
  workflowsDir: string;
  secretsFile: string | null;
  secretEnv: Record<string, string>;
  dataDir: string;
  bus: 'memory' | 'redis';
  redisUrl: string | null;
  /** Prefix of every Redis key and channel: instances sharing a prefix share runs. */
  redisKeyPrefix: string;
  logLevel: string;
  /** Whether this `serve` process also executes runs (redis mode). */
  execute: boolean;
  maxMessageBytes: number;
  maxFieldBytes: number;
  historyTtlMs: number;
  slowConsumerBytes: number;
  nodeTimeoutMs: number;
  codeTimeoutMs: number;
  codeMemoryMb: number;
  authTimeoutMs: number;
  heartbeatMs: number;
  rateLimitPerSec: number;
  rateLimitBurst: number;
  maxSubscriptions: number;
  maxConnectionsPerUser: number;
  maxRunEvents: number;
  maxPauseMs: number;
  shutdownGraceMs: number;
  sandboxPoolSize: number;
  sensitiveKeys: string[] | null;
  leaseMs: number;
  maxHttpBodyBytes: number;
}

interface Var {
  env: string;
  key: keyof Config;
  type: 'integer' | 'string' | 'list' | 'boolean';
  default: unknown;
  minimum?: number;
  enum?: string[];
}

/** Every environment variable, with its default. */
export const CONFIG_VARS: readonly Var[] = [
  { env: 'PORT', key: 'port', type: 'integer', default: 8080, minimum: 0 },
  { env: 'HOST', key: 'host', type: 'string', default: '127.0.0.1' },
  { env: 'AUTH_JWT_SECRET', key: 'authJwtSecret', type: 'string', default: null },
  { env: 'ALLOWED_ORIGINS', key: 'allowedOrigins', type: 'list', default: null },
  { env: 'WORKFLOWS_DIR', key: 'workflowsDir', type: 'string', default: './workflows' },
  { env: 'SECRETS_FILE', key: 'secretsFile', type: 'string', default: null },
  { env: 'DATA_DIR', key: 'dataDir', type: 'string', default: './data' },
  { env: 'BUS', key: 'bus', type: 'string', default: 'memory', enum: ['memory', 'redis'] },
  { env: 'REDIS_URL', key: 'redisUrl', type: 'string', default: null },
  { env: 'REDIS_KEY_PREFIX', key: 'redisKeyPrefix', type: 'string', default: 'runcast:' },
  { env: 'LOG_LEVEL', key: 'logLevel', type: 'string', default: 'info', enum: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] },
  { env: 'EXECUTE', key: 'execute', type: 'boolean', default: true },
  { env: 'MAX_MESSAGE_BYTES', key: 'maxMessageBytes', type: 'integer', default: 1_048_576, minimum: 1024 },
  { env: 'MAX_FIELD_BYTES', key: 'maxFieldBytes', type: 'integer', default: 65_536, minimum: 1024 },
  { env: 'HISTORY_TTL_MS', key: 'historyTtlMs', type: 'integer', default: 900_000, minimum: 1 },
  { env: 'SLOW_CONSUMER_BYTES', key: 'slowConsumerBytes', type: 'integer', default: 8_388_608, minimum: 1024 },
  { env: 'NODE_TIMEOUT_MS', key: 'nodeTimeoutMs', type: 'integer', default: 30_000, minimum: 1 },
  { env: 'CODE_TIMEOUT_MS', key: 'codeTimeoutMs', type: 'integer', default: 1_000, minimum: 1 },
  { env: 'CODE_MEMORY_MB', key: 'codeMemoryMb', type: 'integer', default: 32, minimum: 1 },
  { env: 'AUTH_TIMEOUT_MS', key: 'authTimeoutMs', type: 'integer', default: 5_000, minimum: 1 },
  { env: 'HEARTBEAT_MS', key: 'heartbeatMs', type: 'integer', default: 30_000, minimum: 10 },
  { env: 'RATE_LIMIT_PER_SEC', key: 'rateLimitPerSec', type: 'integer', default: 50, minimum: 1 },
  { env: 'RATE_LIMIT_BURST', key: 'rateLimitBurst', type: 'integer', default: 100, minimum: 1 },
  { env: 'MAX_SUBSCRIPTIONS', key: 'maxSubscriptions', type: 'integer', default: 100, minimum: 1 },
  { env: 'MAX_CONNECTIONS_PER_USER', key: 'maxConnectionsPerUser', type: 'integer', default: 50, minimum: 1 },
  { env: 'MAX_RUN_EVENTS', key: 'maxRunEvents', type: 'integer', default: 100_000, minimum: 10 },
  { env: 'MAX_PAUSE_MS', key: 'maxPauseMs', type: 'integer', default: 600_000, minimum: 1 },
  { env: 'SHUTDOWN_GRACE_MS', key: 'shutdownGraceMs', type: 'integer', default: 10_000, minimum: 0 },
  { env: 'SANDBOX_POOL_SIZE', key: 'sandboxPoolSize', type: 'integer', default: 2, minimum: 1 },
  { env: 'SENSITIVE_KEYS', key: 'sensitiveKeys', type: 'list', default: null },
  { env: 'LEASE_MS', key: 'leaseMs', type: 'integer', default: 5_000, minimum: 100 },
  { env: 'MAX_HTTP_BODY_BYTES', key: 'maxHttpBodyBytes', type: 'integer', default: 1_048_576, minimum: 1024 },
];

const schema = {
  type: 'object',
  properties: Object.fromEntries(
    CONFIG_VARS.map((v) => {
      const s: Record<string, unknown> =
        v.type === 'list' ? { type: ['array', 'null'], items: { type: 'string', minLength: 1 } }
        : v.type === 'integer' ? { type: 'integer' }
        : v.type === 'boolean' ? { type: 'boolean' }
        : { type: v.default === null ? ['string', 'null'] : 'string', minLength: 1 };
      if (v.minimum !== undefined) s.minimum = v.minimum;
      if (v.enum) s.enum = v.enum;
      return [v.key, s];
    }),
  ),
};
const validate = new Ajv({ allErrors: true }).compile(schema);

function coerce(v: Var, raw: string): unknown {
  switch (v.type) {
    case 'integer': return /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    case 'boolean': return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw;
    case 'list': return raw.split(',').map((s) => s.trim()).filter(Boolean);
    default: return raw;
  }
}

/**
 * Read and validate the configuration. Throws a RuncastError (`invalid_message`) that
 * lists every bad variable at once.
 */
export function loadConfig(env: Record<string, string | undefined>): Readonly<Config> {
  const out: Record<string, unknown> = {};
  for (const v of CONFIG_VARS) {
    const raw = env[v.env];
    out[v.key] = raw === undefined || raw === '' ? v.default : coerce(v, raw);
  }
  if (!validate(out)) {
    const byKey = new Map(CONFIG_VARS.map((v) => [`/${v.key}`, v.env]));
    const problems = (validate.errors ?? []).map((e) => `${byKey.get(e.instancePath) ?? e.instancePath}: ${e.message}`);
    throw new RuncastError('invalid_message', `invalid configuration:\n  ${problems.join('\n  ')}`, { details: problems });
  }
  if (out.bus === 'redis' && !out.redisUrl) {
    throw new RuncastError('invalid_message', 'invalid configuration:\n  REDIS_URL: required when BUS=redis');
  }
  const secretEnv: Record<string, string> = {};
  for (const [k, val] of Object.entries(env)) if (k.startsWith('SECRET_') && val !== undefined) secretEnv[k] = val;
  out.secretEnv = secretEnv;
  return Object.freeze(out as unknown as Config);
}
