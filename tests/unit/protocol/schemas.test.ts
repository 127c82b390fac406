/**
 * The JSON Schemas say the same thing as the TypeScript types of src/protocol: same
 * members, same optionality, same enums, and hand-written samples of every message and
 * event kind (checked by the compiler against the types) validate against the schemas.
 */
import { ErrorCodes } from '../../../src/protocol/codes';
import type {
  EdgeSummary,
  EventError,
  EventFrame,
  HttpResponseValue,
  NodeCompletedEvent,
  NodeFailedEvent,
  NodeLogEvent,
  NodePausedEvent,
  NodeStartedEvent,
  NodeSummary,
  RunCancelledEvent,
  RunCompletedEvent,
  RunEvent,
  RunEventKind,
  RunFailedEvent,
  RunStartedEvent,
  RunStatus,
  TruncatedValue,
} from '../../../src/protocol/events';
import type { ProblemDetail } from '../../../src/protocol/errors';
import {
  Scopes,
  type AckMessage,
  type AuthMessage,
  type CancelMessage,
  type ClientMessage,
  type ContinueMessage,
  type ErrorMessage,
  type PingMessage,
  type PongMessage,
  type PresenceMessage,
  type ReadyMessage,
  type RunInput,
  type RunMessage,
  type ServerMessage,
  type SubscribeMessage,
  type UnsubscribeMessage,
} from '../../../src/protocol/messages';
import type { EdgeDefinition, EdgeLabel, NodeDefinition, WorkflowDefinition } from '../../../src/protocol/workflow';
import { SCHEMA_BASE_URI, isSchemaName, jsonSchemas, schemaNames } from '../../../src/protocol/schemas';
import {
  clientMessageTypes,
  runEventKinds,
  serverMessageTypes,
  validateClientMessage,
  validateHttpBody,
  validateRunEvent,
  validateServerMessage,
  validateWorkflowShape,
} from '../../../src/protocol/validate';

// --- members and optionality ---------------------------------------------------------

/** Every member of T, marked as the type declares it; the compiler rejects a missing, extra or mis-marked one. */
type Presence<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? 'optional' : 'required' };
const shape =
  <T>() =>
  (presence: Presence<T>): Record<string, 'optional' | 'required'> =>
    presence;

type JsonSchema = {
  properties?: Record<string, unknown>;
  required?: string[];
  additionalProperties?: unknown;
  enum?: unknown[];
  oneOf?: { $ref: string }[];
};

/** A sub-schema of a schema file by JSON pointer (no $ref following). */
function at(file: keyof typeof schemaNames, pointer: string): JsonSchema {
  let node: unknown = schemaNames[file];
  for (const part of pointer.split('/').slice(1)) node = (node as Record<string, unknown>)[part];
  if (node === undefined) throw new Error(`${file}${pointer} does not exist`);
  return node as JsonSchema;
}

const d = (name: string): string => `/definitions/${name}`;

const shapes: [string, keyof typeof schemaNames, string, Record<string, 'optional' | 'required'>, string[]?][] = [
  // client → server
  ['AuthMessage', 'client-message', d('AuthMessage'), shape<AuthMessage>()({ type: 'required', token: 'required' })],
  [
    'RunMessage',
    'client-message',
    d('RunMessage'),
    shape<RunMessage>()({ type: 'required', id: 'required', workflowId: 'optional', workflow: 'optional', input: 'optional', breakpoints: 'optional' }),
  ],
  ['SubscribeMessage', 'client-message', d('SubscribeMessage'), shape<SubscribeMessage>()({ type: 'required', id: 'required', runId: 'required', fromSeq: 'optional' })],
  ['UnsubscribeMessage', 'client-message', d('UnsubscribeMessage'), shape<UnsubscribeMessage>()({ type: 'required', id: 'required', runId: 'required' })],
  ['CancelMessage', 'client-message', d('CancelMessage'), shape<CancelMessage>()({ type: 'required', id: 'required', runId: 'required' })],
  ['ContinueMessage', 'client-message', d('ContinueMessage'), shape<ContinueMessage>()({ type: 'required', id: 'required', runId: 'required', step: 'optional' })],
  ['PingMessage', 'client-message', d('PingMessage'), shape<PingMessage>()({ type: 'required', id: 'required' })],
  [
    'RunInput',
    'client-message',
    d('RunInput'),
    shape<RunInput>()({ method: 'optional', path: 'optional', headers: 'optional', query: 'optional', params: 'optional', body: 'optional' }),
  ],
  // server → client
  [
    'ReadyMessage',
    'server-message',
    d('ReadyMessage'),
    shape<ReadyMessage>()({
      type: 'required',
      connectionId: 'required',
      user: 'required',
      workspace: 'required',
      scopes: 'required',
      heartbeatMs: 'required',
      maxMessageBytes: 'required',
    }),
  ],
  ['AckMessage', 'server-message', d('AckMessage'), shape<AckMessage>()({ type: 'required', id: 'required', runId: 'optional', lastSeq: 'optional' })],
  [
    'ErrorMessage',
    'server-message',
    d('ErrorMessage'),
    shape<ErrorMessage>()({ type: 'required', id: 'optional', code: 'required', message: 'required', details: 'optional' }),
  ],
  ['EventMessage', 'server-message', d('EventMessage'), shape<EventFrame>()({ type: 'required', runId: 'required', seq: 'required', time: 'required', event: 'required' })],
  ['PresenceMessage', 'server-message', d('PresenceMessage'), shape<PresenceMessage>()({ type: 'required', runId: 'required', viewers: 'required' })],
  ['PongMessage', 'server-message', d('PongMessage'), shape<PongMessage>()({ type: 'required', id: 'required' })],
  ['ProblemDetail', 'server-message', d('ProblemDetail'), shape<ProblemDetail>()({ path: 'required', message: 'required' })],
  // run events
  [
    'RunStartedEvent',
    'run-event',
    d('RunStartedEvent'),
    shape<RunStartedEvent>()({ kind: 'required', workflowId: 'required', workflowName: 'required', startedBy: 'required', nodes: 'required', edges: 'required' }),
  ],
  [
    'NodeStartedEvent',
    'run-event',
    d('NodeStartedEvent'),
    shape<NodeStartedEvent>()({ kind: 'required', nodeId: 'required', nodeType: 'required', input: 'required', config: 'required', iteration: 'optional' }),
  ],
  ['NodeLogEvent', 'run-event', d('NodeLogEvent'), shape<NodeLogEvent>()({ kind: 'required', nodeId: 'required', level: 'required', message: 'required', iteration: 'optional' })],
  [
    'NodeCompletedEvent',
    'run-event',
    d('NodeCompletedEvent'),
    shape<NodeCompletedEvent>()({ kind: 'required', nodeId: 'required', output: 'required', durationMs: 'required', branch: 'optional', iteration: 'optional' }),
  ],
  [
    'NodeFailedEvent',
    'run-event',
    d('NodeFailedEvent'),
    shape<NodeFailedEvent>()({ kind: 'required', nodeId: 'required', error: 'required', durationMs: 'required', iteration: 'optional' }),
  ],
  ['NodePausedEvent', 'run-event', d('NodePausedEvent'), shape<NodePausedEvent>()({ kind: 'required', nodeId: 'required', iteration: 'optional' })],
  ['RunCompletedEvent', 'run-event', d('RunCompletedEvent'), shape<RunCompletedEvent>()({ kind: 'required', response: 'required', durationMs: 'required' })],
  [
    'RunFailedEvent',
    'run-event',
    d('RunFailedEvent'),
    shape<RunFailedEvent>()({ kind: 'required', failedNodeId: 'required', error: 'required', skippedNodeIds: 'required', durationMs: 'required' }),
  ],
  ['RunFailedEvent.error', 'run-event', `${d('RunFailedEvent')}/properties/error`, shape<RunFailedEvent['error']>()({ code: 'required', message: 'required' })],
  [
    'RunCancelledEvent',
    'run-event',
    d('RunCancelledEvent'),
    shape<RunCancelledEvent>()({ kind: 'required', cancelledBy: 'required', skippedNodeIds: 'required', durationMs: 'required' }),
  ],
  ['NodeSummary', 'run-event', d('NodeSummary'), shape<NodeSummary>()({ id: 'required', type: 'required', name: 'optional' })],
  ['EdgeSummary', 'run-event', d('EdgeSummary'), shape<EdgeSummary>()({ from: 'required', to: 'required', when: 'optional' })],
  ['EventError', 'run-event', d('EventError'), shape<EventError>()({ code: 'required', message: 'required', details: 'optional' })],
  ['HttpResponseValue', 'run-event', d('HttpResponseValue'), shape<HttpResponseValue>()({ status: 'required', headers: 'required', body: 'required' })],
  ['TruncatedValue', 'run-event', d('TruncatedValue'), shape<TruncatedValue>()({ $truncated: 'required', bytes: 'required', preview: 'required', ref: 'required' })],
  // workflow definitions; `$schema` is allowed on the wire so editors can offer completion
  [
    'WorkflowDefinition',
    'workflow',
    '',
    shape<WorkflowDefinition>()({ id: 'required', name: 'optional', workspace: 'optional', nodes: 'required', edges: 'required' }),
    ['$schema'],
  ],
  ['NodeDefinition', 'workflow', d('NodeDefinition'), shape<NodeDefinition>()({ id: 'required', type: 'required', name: 'optional', config: 'optional' })],
  ['EdgeDefinition', 'workflow', d('EdgeDefinition'), shape<EdgeDefinition>()({ from: 'required', to: 'required', when: 'optional' })],
];

describe('schemas and TypeScript types', () => {
  describe.each(shapes)('%s', (_name, file, pointer, presence, extras = []) => {
    const schema = at(file, pointer);

    it('has exactly the members of the type, and no others', () => {
      expect(Object.keys(schema.properties ?? {}).sort()).toEqual([...Object.keys(presence), ...extras].sort());
      expect(schema.additionalProperties).toBe(false);
    });

    it('requires exactly the members the type requires', () => {
      const required = Object.keys(presence).filter((k) => presence[k] === 'required');
      expect([...(schema.required ?? [])].sort()).toEqual(required.sort());
    });
  });

  /** Every literal of a union, as an exhaustive record the compiler checks. */
  const literals = <T extends string>(record: Record<T, true>): string[] => Object.keys(record).sort();

  it.each<[string, unknown[] | undefined, string[]]>([
    ['error codes', at('server-message', d('ErrorCode')).enum, [...ErrorCodes].sort()],
    ['scopes', at('server-message', d('Scope')).enum, [...Scopes].sort()],
    ['log levels', (at('run-event', d('NodeLogEvent')).properties?.level as JsonSchema).enum, literals<NodeLogEvent['level']>({ log: true, info: true, warn: true, error: true, debug: true })],
    ['branches', (at('run-event', d('NodeCompletedEvent')).properties?.branch as JsonSchema).enum, literals<NonNullable<NodeCompletedEvent['branch']>>({ true: true, false: true })],
    ['edge labels (workflow)', (at('workflow', d('EdgeDefinition')).properties?.when as JsonSchema).enum, literals<EdgeLabel>({ true: true, false: true, each: true, done: true })],
    ['edge labels (run.started)', (at('run-event', d('EdgeSummary')).properties?.when as JsonSchema).enum, literals<EdgeLabel>({ true: true, false: true, each: true, done: true })],
    [
      'run statuses',
      (at('http', d('RunStatus')).properties?.status as JsonSchema).enum,
      literals<RunStatus>({ running: true, paused: true, succeeded: true, failed: true, cancelled: true }),
    ],
  ])('the schema lists the same %s as the code', (_name, schemaEnum, expected) => {
    expect([...(schemaEnum ?? [])].sort()).toEqual(expected);
  });

  it.each<[string, keyof typeof schemaNames, string[]]>([
    ['client message types', 'client-message', literals<ClientMessage['type']>({ auth: true, run: true, subscribe: true, unsubscribe: true, cancel: true, continue: true, ping: true })],
    ['server message types', 'server-message', literals<ServerMessage['type']>({ ready: true, ack: true, error: true, event: true, presence: true, pong: true })],
    [
      'run event kinds',
      'run-event',
      literals<RunEventKind>({
        'run.started': true,
        'node.started': true,
        'node.log': true,
        'node.completed': true,
        'node.failed': true,
        'node.paused': true,
        'run.completed': true,
        'run.failed': true,
        'run.cancelled': true,
      }),
    ],
  ])('the oneOf of %s names every variant once', (_name, file, expected) => {
    const root = at(file, '');
    const discriminator = file === 'run-event' ? 'kind' : 'type';
    const consts = (root.oneOf ?? []).map((branch) => {
      const def = at(file, branch.$ref.slice(1));
      return ((def.properties ?? {})[discriminator] as { const: string }).const;
    });
    expect(consts.sort()).toEqual(expected);
  });

  it('exports the discriminators the validators know', () => {
    expect([...clientMessageTypes].sort()).toEqual(at('client-message', '').oneOf?.map((b) => b.$ref.replace(/^#\/definitions\/|Message$/g, '').toLowerCase()).sort());
    expect(serverMessageTypes).toHaveLength(6);
    expect(runEventKinds).toHaveLength(9);
  });
});

// --- samples -----------------------------------------------------------------------

const truncated: TruncatedValue = { $truncated: true, bytes: 70_000, preview: '{"rows":[', ref: 'v_1' };

const eventSamples: { [K in RunEventKind]: Extract<RunEvent, { kind: K }>[] } = {
  'run.started': [
    {
      kind: 'run.started',
      workflowId: 'create-user',
      workflowName: 'Create user',
      startedBy: 'ada',
      nodes: [
        { id: 'start', type: 'api.start', name: 'Start' },
        { id: 'check', type: 'condition' },
      ],
      edges: [
        { from: 'start', to: 'check' },
        { from: 'check', to: 'yes', when: 'true' },
        { from: 'check', to: 'no', when: 'false' },
      ],
    },
    { kind: 'run.started', workflowId: 'w', workflowName: '', startedBy: 'ada', nodes: [], edges: [] },
  ],
  'node.started': [
    { kind: 'node.started', nodeId: 'start', nodeType: 'api.start', input: { method: 'GET', path: '/' }, config: { method: 'GET', path: '/' } },
    { kind: 'node.started', nodeId: 'body', nodeType: 'logic', input: null, config: truncated, iteration: [0, 3] },
  ],
  'node.log': [
    { kind: 'node.log', nodeId: 'clean', level: 'log', message: 'hello' },
    { kind: 'node.log', nodeId: 'clean', level: 'warn', message: '', iteration: [1] },
  ],
  'node.completed': [
    { kind: 'node.completed', nodeId: 'clean', output: { email: 'a@b.c' }, durationMs: 3 },
    { kind: 'node.completed', nodeId: 'check', output: [1, 2], durationMs: 0.25, branch: 'false', iteration: [] },
    { kind: 'node.completed', nodeId: 'big', output: truncated, durationMs: 12 },
  ],
  'node.failed': [
    { kind: 'node.failed', nodeId: 'clean', error: { code: 'code_error', message: 'x is not defined' }, durationMs: 1 },
    { kind: 'node.failed', nodeId: 'params', error: { code: 'validation_failed', message: 'invalid body', details: [{ path: '/email', message: 'must be string' }] }, durationMs: 2, iteration: [4] },
  ],
  'node.paused': [
    { kind: 'node.paused', nodeId: 'insert' },
    { kind: 'node.paused', nodeId: 'body', iteration: [0] },
  ],
  'run.completed': [
    { kind: 'run.completed', response: { status: 201, headers: { 'content-type': 'application/json' }, body: { id: 'u1' } }, durationMs: 40 },
    { kind: 'run.completed', response: { status: 204, headers: {}, body: null }, durationMs: 0 },
  ],
  'run.failed': [
    { kind: 'run.failed', failedNodeId: 'clean', error: { code: 'code_error', message: 'boom' }, skippedNodeIds: ['insert', 'respond'], durationMs: 9 },
    { kind: 'run.failed', failedNodeId: null, error: { code: 'internal', message: 'worker lost' }, skippedNodeIds: [], durationMs: 9 },
  ],
  'run.cancelled': [{ kind: 'run.cancelled', cancelledBy: 'ada', skippedNodeIds: ['respond'], durationMs: 100 }],
};

const allEvents: RunEvent[] = Object.values(eventSamples).flat();

const serverSamples: { [K in ServerMessage['type']]: Extract<ServerMessage, { type: K }>[] } = {
  ready: [{ type: 'ready', connectionId: 'c1', user: 'ada', workspace: 'acme', scopes: ['runs:execute', 'runs:watch', 'runs:cancel'], heartbeatMs: 30_000, maxMessageBytes: 1_048_576 }],
  ack: [
    { type: 'ack', id: '1' },
    { type: 'ack', id: 'r1', runId: 'run_1' },
    { type: 'ack', id: 's1', runId: 'run_1', lastSeq: 0 },
  ],
  error: [
    { type: 'error', code: 'bad_json', message: 'message is not valid JSON' },
    { type: 'error', id: 's1', code: 'invalid_message', message: 'invalid subscribe message', details: [{ path: '/fromSeq', message: 'must be >= 0' }] },
    { type: 'error', id: 'r1', code: 'workflow_invalid', message: 'invalid workflow', details: [] },
    { type: 'error', id: 's2', code: 'not_found', message: 'run not found' },
  ],
  event: allEvents.map((event, i) => ({ type: 'event', runId: 'run_1', seq: i + 1, time: '2025-06-01T10:00:00.000Z', event })),
  presence: [
    { type: 'presence', runId: 'run_1', viewers: 0 },
    { type: 'presence', runId: 'run_1', viewers: 3 },
  ],
  pong: [{ type: 'pong', id: 'p1' }],
};

const clientSamples: { [K in ClientMessage['type']]: Extract<ClientMessage, { type: K }>[] } = {
  auth: [{ type: 'auth', token: 't' }],
  run: [
    { type: 'run', id: '1', workflowId: 'w' },
    { type: 'run', id: '2', workflow: { id: 'w', nodes: [{ id: 's', type: 'api.start' }], edges: [] }, input: { body: 1 }, breakpoints: ['s'] },
  ],
  subscribe: [{ type: 'subscribe', id: '1', runId: 'r', fromSeq: 3 }],
  unsubscribe: [{ type: 'unsubscribe', id: '1', runId: 'r' }],
  cancel: [{ type: 'cancel', id: '1', runId: 'r' }],
  continue: [{ type: 'continue', id: '1', runId: 'r', step: true }],
  ping: [{ type: 'ping', id: '1' }],
};

const labelled = <T extends { kind: string } | { type: string }>(values: T[]): [string, T][] =>
  values.map((v) => ['kind' in v ? v.kind : v.type, v]);

describe('samples of every kind validate', () => {
  it.each(labelled(allEvents))('run event %s', (_kind, event) => {
    expect(validateRunEvent(event)).toEqual([]);
  });

  it.each(labelled(Object.values(serverSamples).flat()))('server message %s', (_type, message) => {
    expect(validateServerMessage(message)).toEqual([]);
  });

  it.each(labelled(Object.values(clientSamples).flat()))('client message %s', (_type, message) => {
    expect(validateClientMessage(message)).toEqual([]);
  });

  it.each(labelled(allEvents))('run event %s with an extra member is refused', (_kind, event) => {
    expect(validateRunEvent({ ...event, secret: 'x' })).toEqual([{ path: '/', message: "must NOT have additional property 'secret'" }]);
  });

  it.each(labelled(Object.values(serverSamples).flat()))('server message %s with an extra member is refused', (_type, message) => {
    expect(validateServerMessage({ ...message, extra: 1 })).toContainEqual({ path: '/', message: "must NOT have additional property 'extra'" });
  });
});

describe('validateRunEvent', () => {
  it.each<[string, unknown, ProblemDetail[]]>([
    ['not an object', 'run.started', [{ path: '/', message: 'must be object' }]],
    ['an array', [], [{ path: '/', message: 'must be object' }]],
    ['no kind', { nodeId: 'a' }, [{ path: '/', message: "must have required property 'kind'" }]],
    ['an unknown kind', { kind: 'node.skipped', nodeId: 'a' }, [{ path: '/kind', message: expect.stringContaining('must be one of "run.started"') }]],
    ['an inherited property name as kind', { kind: 'constructor' }, [{ path: '/kind', message: expect.stringContaining('must be one of') }]],
    ['a negative duration', { kind: 'node.completed', nodeId: 'a', output: 1, durationMs: -1 }, [{ path: '/durationMs', message: 'must be >= 0' }]],
    ['a fractional iteration', { kind: 'node.paused', nodeId: 'a', iteration: [0.5] }, [{ path: '/iteration/0', message: 'must be integer' }]],
    ['a negative iteration', { kind: 'node.paused', nodeId: 'a', iteration: [-1] }, [{ path: '/iteration/0', message: 'must be >= 0' }]],
    ['a branch on a non-boolean label', { kind: 'node.completed', nodeId: 'a', output: 1, durationMs: 1, branch: 'each' }, [{ path: '/branch', message: 'must be one of "true", "false"' }]],
    ['a node.started without input', { kind: 'node.started', nodeId: 'a', nodeType: 'logic', config: {} }, [{ path: '/', message: "must have required property 'input'" }]],
    ['a run.failed without failedNodeId', { kind: 'run.failed', error: { code: 'x', message: 'y' }, skippedNodeIds: [], durationMs: 1 }, [{ path: '/', message: "must have required property 'failedNodeId'" }]],
    ['a numeric failedNodeId', { kind: 'run.failed', failedNodeId: 3, error: { code: 'x', message: 'y' }, skippedNodeIds: [], durationMs: 1 }, [{ path: '/failedNodeId', message: 'must be string or null' }]],
    ['details in a run.failed error', { kind: 'run.failed', failedNodeId: null, error: { code: 'x', message: 'y', details: 1 }, skippedNodeIds: [], durationMs: 1 }, [{ path: '/error', message: "must NOT have additional property 'details'" }]],
    ['a response status of 42', { kind: 'run.completed', response: { status: 42, headers: {}, body: null }, durationMs: 1 }, [{ path: '/response/status', message: 'must be >= 100' }]],
    ['an unknown log level', { kind: 'node.log', nodeId: 'a', level: 'trace', message: '' }, [{ path: '/level', message: expect.stringContaining('must be one of "log"') }]],
  ])('refuses %s', (_name, event, problems) => {
    expect(validateRunEvent(event)).toEqual(problems);
  });
});

describe('validateServerMessage', () => {
  it.each<[string, unknown, ProblemDetail[]]>([
    ['an unknown type', { type: 'welcome' }, [{ path: '/type', message: expect.stringContaining('must be one of "ready"') }]],
    ['an error code that does not exist', { type: 'error', code: 'oops', message: 'x' }, [{ path: '/code', message: expect.stringContaining('must be one of "bad_json"') }]],
    ['invalid_message without details', { type: 'error', id: '1', code: 'invalid_message', message: 'x' }, [{ path: '/', message: "must have required property 'details'" }]],
    ['workflow_invalid with details that are not problems', { type: 'error', code: 'workflow_invalid', message: 'x', details: ['cycle'] }, [{ path: '/details/0', message: 'must be object' }]],
    ['an error echoing an invalid id', { type: 'error', id: '', code: 'internal', message: 'x' }, [{ path: '/id', message: 'must NOT have fewer than 1 characters' }]],
    ['an event with seq 0', { type: 'event', runId: 'r', seq: 0, time: '2025-06-01T10:00:00Z', event: eventSamples['node.paused'][0] }, [{ path: '/seq', message: 'must be >= 1' }]],
    ['an event whose time is not ISO 8601', { type: 'event', runId: 'r', seq: 1, time: 'yesterday', event: eventSamples['node.paused'][0] }, [{ path: '/time', message: 'must match format "date-time"' }]],
    ['an event whose event is invalid', { type: 'event', runId: 'r', seq: 1, time: '2025-06-01T10:00:00Z', event: { kind: 'node.paused' } }, [{ path: '/event', message: "must have required property 'nodeId'" }]],
    ['an event whose event has a bad member', { type: 'event', runId: 'r', seq: 1, time: '2025-06-01T10:00:00Z', event: { kind: 'node.paused', nodeId: 'a', iteration: 'x' } }, [{ path: '/event/iteration', message: 'must be array' }]],
    ['an event whose event has an unknown kind', { type: 'event', runId: 'r', seq: 1, time: '2025-06-01T10:00:00Z', event: { kind: 'x' } }, [{ path: '/event/kind', message: expect.stringContaining('must be one of') }]],
    ['a ready with an unknown scope', { ...serverSamples.ready[0], scopes: ['admin'] }, [{ path: '/scopes/0', message: 'must be one of "runs:execute", "runs:watch", "runs:cancel"' }]],
    ['a presence with a negative count', { type: 'presence', runId: 'r', viewers: -1 }, [{ path: '/viewers', message: 'must be >= 0' }]],
  ])('refuses %s', (_name, message, problems) => {
    expect(validateServerMessage(message)).toEqual(problems);
  });
});

describe('validateWorkflowShape', () => {
  const good: WorkflowDefinition = {
    id: 'create-user',
    name: 'Create user',
    workspace: 'acme',
    nodes: [
      { id: 'start', type: 'api.start', config: { method: 'POST', path: '/users' } },
      { id: 'respond', type: 'api.response', name: 'Respond', config: { status: 201 } },
    ],
    edges: [{ from: 'start', to: 'respond' }],
  };

  it('accepts a well-formed definition', () => {
    expect(validateWorkflowShape(good)).toEqual([]);
    expect(validateWorkflowShape({ $schema: 'https://runcast.dev/schemas/workflow.json', ...good })).toEqual([]);
  });

  it('lists every problem with a JSON pointer to it', () => {
    const problems = validateWorkflowShape({
      id: 'bad id',
      nodes: [{ id: 'ok', type: 'logic', config: 'return 1' }, { type: '' }],
      edges: [{ from: 'ok', to: 'x'.repeat(65), when: 'yes' }],
      extra: true,
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: '/', message: "must NOT have additional property 'extra'" },
        { path: '/id', message: 'must match pattern "^[A-Za-z0-9_-]{1,64}$"' },
        { path: '/nodes/0/config', message: 'must be object' },
        { path: '/nodes/1', message: "must have required property 'id'" },
        { path: '/nodes/1/type', message: 'must NOT have fewer than 1 characters' },
        { path: '/edges/0/to', message: 'must match pattern "^[A-Za-z0-9_-]{1,64}$"' },
        { path: '/edges/0/when', message: 'must be one of "true", "false", "each", "done"' },
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['an array', []],
    ['a string', 'create-user'],
  ])('refuses %s as a whole', (_name, value) => {
    expect(validateWorkflowShape(value)).toEqual([{ path: '/', message: 'must be object' }]);
  });
});

describe('validateHttpBody', () => {
  it.each<[Parameters<typeof validateHttpBody>[0], unknown]>([
    ['RunRequest', { workflowId: 'create-user', input: { method: 'POST', body: { email: 'a@b.c' } } }],
    ['RunRequest', { workflow: { id: 'w', nodes: [], edges: [] } }],
    ['RunResult', { runId: 'run_1', status: 'succeeded', response: { status: 200, headers: {}, body: 'ok' } }],
    ['RunResult', { runId: 'run_1', status: 'failed', error: { code: 'code_error', message: 'boom', nodeId: 'clean' } }],
    ['RunResult', { runId: 'run_1', status: 'cancelled', error: { code: 'cancelled', message: 'cancelled by ada', nodeId: null } }],
    ['RunStatus', { runId: 'run_1', workflowId: 'w', status: 'running', startedAt: '2025-06-01T10:00:00.000Z', endedAt: null, lastSeq: 4 }],
    ['RunStatus', { runId: 'run_1', workflowId: 'w', status: 'succeeded', startedAt: '2025-06-01T10:00:00Z', endedAt: '2025-06-01T10:00:01Z', lastSeq: 9 }],
    ['ErrorBody', { error: { code: 'unauthorized', message: 'token expired' } }],
    ['ErrorBody', { error: { code: 'invalid_message', message: 'invalid body', details: [{ path: '/', message: 'must be object' }] } }],
    ['ErrorBody', { error: { code: 'code_error', message: 'boom', runId: 'run_1' } }],
  ])('accepts a %s', (name, body) => {
    expect(validateHttpBody(name, body)).toEqual([]);
  });

  it.each<[Parameters<typeof validateHttpBody>[0], unknown, ProblemDetail]>([
    ['RunRequest', { input: {} }, { path: '/', message: "must have one of 'workflowId' or 'workflow'" }],
    ['RunRequest', { workflowId: 'w', workflow: { id: 'w', nodes: [], edges: [] } }, { path: '/', message: "must not have both 'workflowId' and 'workflow'" }],
    ['RunRequest', { workflowId: 'w', breakpoints: [] }, { path: '/', message: "must NOT have additional property 'breakpoints'" }],
    ['RunResult', { runId: 'r', status: 'succeeded' }, { path: '/', message: "must have required property 'response'" }],
    ['RunResult', { runId: 'r', status: 'failed', response: { status: 500, headers: {}, body: null } }, { path: '/response', message: 'must NOT be present here' }],
    ['RunResult', { runId: 'r', status: 'running', error: { code: 'x', message: 'y' } }, { path: '/status', message: 'must be one of "succeeded", "failed", "cancelled"' }],
    ['RunStatus', { runId: 'r', workflowId: 'w', status: 'done', startedAt: 'now', endedAt: null, lastSeq: -1 }, { path: '/startedAt', message: 'must match format "date-time"' }],
    ['ErrorBody', { code: 'internal', message: 'x' }, { path: '/', message: "must have required property 'error'" }],
  ])('refuses a bad %s', (name, body, problem) => {
    expect(validateHttpBody(name, body)).toContainEqual(problem);
  });
});

describe('schemaNames', () => {
  it('publishes every schema under its name, with an $id of the same name', () => {
    expect(Object.keys(schemaNames).sort()).toEqual(['asyncapi', 'client-message', 'http', 'run-event', 'server-message', 'workflow']);
    for (const [name, schema] of Object.entries(schemaNames)) {
      if (name === 'asyncapi') continue;
      expect(schema).toMatchObject({ $schema: 'http://json-schema.org/draft-07/schema#', $id: `${SCHEMA_BASE_URI}${name}.json` });
    }
    expect(jsonSchemas).toHaveLength(5);
    expect(schemaNames.asyncapi).toMatchObject({ asyncapi: '3.0.0' });
  });

  it.each([
    ['workflow', true],
    ['asyncapi', true],
    ['toString', false],
    ['__proto__', false],
    ['workflow.json', false],
  ])('isSchemaName(%j) is %j', (name, expected) => {
    expect(isSchemaName(name)).toBe(expected);
  });
});
