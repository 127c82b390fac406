/**
 * Runtime validation of everything that crosses the wire, against the JSON Schemas in
 * `schemas/` (the machine-readable contract). One Ajv instance, strict mode, every
 * validator compiled once at load. Browser-safe: no node:* imports.
 *
 * Errors are reported as `ProblemDetail`s: `path` is a JSON pointer into the value
 * (`"/"` for the value as a whole) and `message` says what is wrong there. Messages are
 * validated against the schema of their own `type` (events: of their own `kind`), so a
 * client gets the errors of the message it meant to send, not the noise of every
 * alternative of a `oneOf`.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { ProblemDetail } from './errors';
import type { RunEvent } from './events';
import type { ClientMessage, ServerMessage } from './messages';
import type { WorkflowDefinition } from './workflow';
import { SCHEMA_BASE_URI, jsonSchemas } from './schemas';

const ajv = new Ajv({
  allErrors: true,
  strict: true,
  // `failedNodeId: string | null`, `endedAt: string | null`.
  allowUnionTypes: true,
  // Gives each error its schema, so a failed exactly-one-of can name its alternatives.
  verbose: true,
  schemas: [...jsonSchemas],
});
addFormats(ajv, ['date-time']);

function compiled(name: string, fragment = ''): ValidateFunction {
  const ref = `${SCHEMA_BASE_URI}${name}.json${fragment ? `#${fragment}` : ''}`;
  const validate = ajv.getSchema(ref);
  if (!validate) throw new Error(`schema ${ref} is missing`);
  return validate;
}

const definition = (file: string, def: string): ValidateFunction => compiled(file, `/definitions/${def}`);

const clientValidators: Record<ClientMessage['type'], ValidateFunction> = {
  auth: definition('client-message', 'AuthMessage'),
  run: definition('client-message', 'RunMessage'),
  subscribe: definition('client-message', 'SubscribeMessage'),
  unsubscribe: definition('client-message', 'UnsubscribeMessage'),
  cancel: definition('client-message', 'CancelMessage'),
  continue: definition('client-message', 'ContinueMessage'),
  ping: definition('client-message', 'PingMessage'),
};

const serverValidators: Record<ServerMessage['type'], ValidateFunction> = {
  ready: definition('server-message', 'ReadyMessage'),
  ack: definition('server-message', 'AckMessage'),
  error: definition('server-message', 'ErrorMessage'),
  event: definition('server-message', 'EventMessage'),
  presence: definition('server-message', 'PresenceMessage'),
  pong: definition('server-message', 'PongMessage'),
};

const eventValidators: Record<RunEvent['kind'], ValidateFunction> = {
  'run.started': definition('run-event', 'RunStartedEvent'),
  'node.started': definition('run-event', 'NodeStartedEvent'),
  'node.log': definition('run-event', 'NodeLogEvent'),
  'node.completed': definition('run-event', 'NodeCompletedEvent'),
  'node.failed': definition('run-event', 'NodeFailedEvent'),
  'node.paused': definition('run-event', 'NodePausedEvent'),
  'run.completed': definition('run-event', 'RunCompletedEvent'),
  'run.failed': definition('run-event', 'RunFailedEvent'),
  'run.cancelled': definition('run-event', 'RunCancelledEvent'),
};

/** The bodies of the HTTP routes, as named in `schemas/http.schema.json`. */
export type HttpBodyName = 'RunRequest' | 'RunResult' | 'RunStatus' | 'ErrorBody';

const httpValidators: Record<HttpBodyName, ValidateFunction> = {
  RunRequest: definition('http', 'RunRequest'),
  RunResult: definition('http', 'RunResult'),
  RunStatus: definition('http', 'RunStatus'),
  ErrorBody: definition('http', 'ErrorBody'),
};

const workflowValidator = compiled('workflow');
const messageIdValidator = definition('client-message', 'MessageId');

/** The `type`s a client may send, in PROTOCOL.md order. */
export const clientMessageTypes = Object.keys(clientValidators) as ClientMessage['type'][];
/** The `type`s the server sends. */
export const serverMessageTypes = Object.keys(serverValidators) as ServerMessage['type'][];
/** The event `kind`s of section 5. */
export const runEventKinds = Object.keys(eventValidators) as RunEvent['kind'][];

const has = (record: object, key: string): boolean => Object.prototype.hasOwnProperty.call(record, key);

// --- error formatting --------------------------------------------------------------

const quote = (value: unknown): string => JSON.stringify(value);

/** A failed `oneOf` whose alternatives each only require one property: "exactly one of". */
function exactlyOneOfMessage(error: ErrorObject): string | undefined {
  const branches = error.schema;
  if (!Array.isArray(branches)) return undefined;
  const names: string[] = [];
  for (const branch of branches) {
    const required = (branch as { required?: unknown } | null)?.required;
    if (!Array.isArray(required) || required.length !== 1 || typeof required[0] !== 'string') return undefined;
    names.push(`'${required[0]}'`);
  }
  if (!Array.isArray(error.params.passingSchemas)) return `must have one of ${names.join(' or ')}`;
  return names.length === 2
    ? `must not have both ${names[0]} and ${names[1]}`
    : `must have only one of ${names.join(', ')}`;
}

function readable(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `must NOT have additional property '${String(params.additionalProperty)}'`;
    case 'false schema':
      return 'must NOT be present here';
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map(quote).join(', ')}`;
    case 'const':
      return `must be ${quote(params.allowedValue)}`;
    case 'type':
      return `must be ${String(params.type).split(',').join(' or ')}`;
    case 'oneOf':
      return exactlyOneOfMessage(error) ?? error.message ?? 'is invalid';
    default:
      return error.message ?? 'is invalid';
  }
}

/**
 * Turns Ajv errors into readable, de-duplicated problems with JSON-pointer paths
 * (`"/"` for the root). The noise of combinators is dropped: `if` wrappers (the failing
 * `then`/`else` errors are kept) and the per-alternative errors of a failed
 * `oneOf`/`anyOf` (the combinator's own error says what was expected).
 */
export function toProblemDetails(errors: readonly ErrorObject[] | null | undefined): ProblemDetail[] {
  if (!errors) return [];
  const combinators = errors
    .filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')
    .map((e) => `${e.schemaPath}/`);
  const seen = new Set<string>();
  const problems: ProblemDetail[] = [];
  for (const error of errors) {
    if (error.keyword === 'if') continue;
    if (combinators.some((prefix) => error.schemaPath.startsWith(prefix))) continue;
    const problem = { path: error.instancePath || '/', message: readable(error) };
    const key = `${problem.path}\u0000${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

function run(validate: ValidateFunction, value: unknown): ProblemDetail[] {
  return validate(value) ? [] : toProblemDetails(validate.errors);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** At most 64 characters of a client-supplied string, for an error message. */
function excerpt(text: string): string {
  const chars = Array.from(text);
  return quote(chars.length > 64 ? `${chars.slice(0, 64).join('')}…` : text);
}

/** Validates a value discriminated by `field` against the validator of its own variant. */
function byDiscriminator(
  value: unknown,
  field: 'type' | 'kind',
  validators: Record<string, ValidateFunction>,
): ProblemDetail[] {
  if (!isObject(value)) return [{ path: '/', message: 'must be object' }];
  const tag = value[field];
  if (!has(value, field)) return [{ path: '/', message: `must have required property '${field}'` }];
  if (typeof tag !== 'string' || !has(validators, tag)) {
    return [{ path: `/${field}`, message: `must be one of ${Object.keys(validators).map(quote).join(', ')}` }];
  }
  return run(validators[tag], value);
}

// --- public API --------------------------------------------------------------------

export type ParseErrorCode = 'bad_json' | 'invalid_message' | 'unknown_type';

export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: ParseErrorCode; message: string; details?: ProblemDetail[]; id?: string };

/**
 * Parses one text frame from a client. Never throws.
 *
 * - not JSON → `bad_json` (the message does not quote the frame: it may hold a token);
 * - JSON but not an object, or an object without a string `type` → `invalid_message`;
 * - a string `type` that is not a client message type → `unknown_type`;
 * - otherwise the message is checked against the schema of its `type`: every violation
 *   is listed in `details` (`invalid_message`).
 *
 * A failure carries `id` when the object had a valid one (a string of 1–64 characters),
 * so the `error` reply can echo it. Defaults (`fromSeq` 0, `step` false) are not filled in.
 */
export function parseClientMessage(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: 'bad_json', message: 'message is not valid JSON' };
  }
  if (!isObject(value)) {
    return {
      ok: false,
      code: 'invalid_message',
      message: 'a message must be a JSON object',
      details: [{ path: '/', message: 'must be object' }],
    };
  }
  const id = messageIdValidator(value.id) ? (value.id as string) : undefined;
  const withId = id === undefined ? {} : { id };
  const type = value.type;
  if (typeof type !== 'string') {
    const details =
      type === undefined
        ? [{ path: '/', message: "must have required property 'type'" }]
        : [{ path: '/type', message: 'must be string' }];
    return { ok: false, code: 'invalid_message', message: 'a message must have a string "type"', details, ...withId };
  }
  if (!has(clientValidators, type)) {
    return {
      ok: false,
      code: 'unknown_type',
      message: `unknown message type ${excerpt(type)}; expected one of ${clientMessageTypes.join(', ')}`,
      ...withId,
    };
  }
  const details = run(clientValidators[type as ClientMessage['type']], value);
  if (details.length > 0) {
    return { ok: false, code: 'invalid_message', message: `invalid ${type} message`, details, ...withId };
  }
  return { ok: true, message: value as unknown as ClientMessage };
}

/**
 * Checks the shape of a workflow definition against `workflow.schema.json` (ids, node
 * and edge fields, edge labels). Graph rules and node configs are checked elsewhere.
 * Returns every problem; an empty list means the shape is valid.
 */
export function validateWorkflowShape(def: unknown): ProblemDetail[] {
  return run(workflowValidator, def);
}

/** Type guard over {@link validateWorkflowShape}. */
export function isWorkflowShape(def: unknown): def is WorkflowDefinition {
  return workflowValidator(def);
}

/** Checks a server → client message against the schema of its `type`. Empty list: valid. */
export function validateServerMessage(msg: unknown): ProblemDetail[] {
  const problems = byDiscriminator(msg, 'type', serverValidators);
  if (problems.length === 0 || !isObject(msg) || msg.type !== 'event' || !has(msg, 'event')) return problems;
  // The schema checks `event` against the whole RunEvent union; report its own kind's errors instead.
  const inEvent = (p: ProblemDetail): boolean => p.path === '/event' || p.path.startsWith('/event/');
  const eventProblems = validateRunEvent(msg.event).map((p) => ({ path: `/event${p.path === '/' ? '' : p.path}`, message: p.message }));
  return [...problems.filter((p) => !inEvent(p)), ...eventProblems];
}

/** Checks a run event against the schema of its `kind`. Empty list: valid. */
export function validateRunEvent(event: unknown): ProblemDetail[] {
  return byDiscriminator(event, 'kind', eventValidators);
}

/** Checks a client → server message (already parsed) against its schema. Empty list: valid. */
export function validateClientMessage(msg: unknown): ProblemDetail[] {
  return byDiscriminator(msg, 'type', clientValidators);
}

/** Checks an HTTP request or response body against `http.schema.json#/definitions/<name>`. */
export function validateHttpBody(name: HttpBodyName, body: unknown): ProblemDetail[] {
  return run(httpValidators[name], body);
}
