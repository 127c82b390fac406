/**
 * The winston set-up: JSON lines, with a redacting format as the last step before
 * output, so no transport ever sees an unredacted line (PROTOCOL.md section 5,
 * invariant 4).
 */
import winston from 'winston';
import { createRedactor, type Redactor } from '../redaction';

export interface LoggerOptions {
  /** Lowest npm level written (`error` … `silly`), e.g. `LOG_LEVEL`. */
  level: string;
  /**
   * The redactor to use for each line, asked at every line so that the application
   * can swap in one that knows every loaded secret. When it returns `undefined`,
   * key-based redaction (the default key list) still applies.
   */
  redactor: () => Redactor | undefined;
  /** Where the JSON lines go; stdout by default. */
  stream?: NodeJS.WritableStream;
}

// winston's own keys (triple-beam, a dependency of winston and not of ours): the
// level, and the finished line that transports write.
const LEVEL = Symbol.for('level');
const MESSAGE = Symbol.for('message');

/** Used when the getter has no redactor yet: knows no secret, masks sensitive keys. */
const keysOnly = createRedactor({ secrets: [] });

/**
 * Create the application logger: one JSON object per line with `level`, `message`,
 * `timestamp` and the metadata. `%s`-style arguments are interpolated. Errors
 * anywhere in the entry (`logger.error('x', { err })`, `logger.error(err)`) are
 * written as `{ name, message, stack, ... }`. Then the whole entry — message,
 * metadata, error messages and stacks, keys included — is redacted.
 *
 * @throws {Error} when `level` is not an npm level.
 */
export function createLogger(options: LoggerOptions): winston.Logger {
  const levels = winston.config.npm.levels;
  if (!Object.prototype.hasOwnProperty.call(levels, options.level)) {
    throw new Error(`log level ${JSON.stringify(options.level)} is not one of ${Object.keys(levels).join(', ')}`);
  }
  const transport =
    options.stream === undefined
      ? new winston.transports.Console()
      : new winston.transports.Stream({ stream: options.stream });
  return winston.createLogger({
    level: options.level,
    levels,
    format: winston.format.combine(
      winston.format.splat(),
      winston.format.timestamp(),
      redactingJson(options.redactor),
    ),
    transports: [transport],
  });
}

/**
 * The last format: builds a new entry from the redacted fields of `info` and its JSON
 * line. The original `info` (and its splat arguments) does not travel further.
 */
function redactingJson(getRedactor: () => Redactor | undefined): winston.Logform.Format {
  return winston.format((info) => {
    const level = String(info[LEVEL] ?? info.level);
    let fields: Record<string, unknown>;
    try {
      const redactor = getRedactor() ?? keysOnly;
      fields = redactor.redact(plainFields(info));
    } catch {
      // Never let an entry out unredacted: say that one was dropped instead.
      fields = { level: 'error', message: '[log entry dropped: redaction failed]', timestamp: new Date().toISOString() };
    }
    const entry: winston.Logform.TransformableInfo = {
      ...fields,
      level: typeof fields.level === 'string' ? fields.level : level,
      message: fields.message,
    };
    entry[LEVEL] = level;
    entry[MESSAGE] = JSON.stringify(fields, jsonReplacer);
    return entry;
  })();
}

/**
 * The entry's own fields as plain data, errors serialised: `info` itself may be an
 * Error (`logger.error(err)`), its message may be one, and metadata may hold them.
 */
function plainFields(info: winston.Logform.TransformableInfo): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const source = info as unknown as Record<string, unknown>;
  if (info instanceof Error) {
    fields.name = info.name;
    fields.message = info.message;
    if (info.stack !== undefined) fields.stack = info.stack;
  }
  for (const key of Object.keys(source)) fields[key] = source[key];
  const message = fields.message;
  if (message instanceof Error) {
    fields.message = message.message;
    if (fields.stack === undefined && message.stack !== undefined) fields.stack = message.stack;
  }
  // The redactor turns any Error left in metadata into { name, message, stack, ... }.
  // level, message and timestamp lead the line, whatever order winston built.
  return { level: fields.level, message: fields.message, timestamp: fields.timestamp, ...fields };
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
