/**
 * schemas/asyncapi.json: a valid AsyncAPI 3.0 document of the WebSocket protocol whose
 * payload schemas are the JSON Schema files, inlined (the parser does not follow
 * `$id`-relative references between files).
 *
 * After changing a schema file, regenerate the inlined copies with
 *   RUNCAST_UPDATE_ASYNCAPI=1 npx jest tests/unit/protocol/asyncapi.test.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser, type AsyncAPIDocumentInterface, type Diagnostic } from '@asyncapi/parser';
import { clientMessageTypes, serverMessageTypes, validateClientMessage, validateServerMessage } from '../../../src/protocol/validate';
import { buildAsyncApiSchemas } from './asyncapi-components';

const FILE = join(__dirname, '../../../schemas/asyncapi.json');
const ERROR = 0; // DiagnosticSeverity.Error of @stoplight/types

type Doc = {
  asyncapi: string;
  channels: Record<string, { messages: Record<string, { $ref: string }> }>;
  components: {
    schemas: Record<string, unknown>;
    messages: Record<string, { payload: { $ref: string }; examples?: { name: string; payload: unknown }[] }>;
  };
};

if (process.env.RUNCAST_UPDATE_ASYNCAPI === '1') {
  const current = JSON.parse(readFileSync(FILE, 'utf8')) as Doc;
  current.components.schemas = buildAsyncApiSchemas();
  writeFileSync(FILE, `${JSON.stringify(current, null, 2)}\n`);
}

const text = readFileSync(FILE, 'utf8');
const doc = JSON.parse(text) as Doc;

describe('schemas/asyncapi.json', () => {
  let document: AsyncAPIDocumentInterface | undefined;
  let diagnostics: Diagnostic[] = [];

  beforeAll(async () => {
    ({ document, diagnostics } = await new Parser().parse(text));
  });

  it('parses with @asyncapi/parser without error diagnostics', () => {
    const errors = diagnostics.filter((d) => d.severity === ERROR).map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`);
    expect(errors).toEqual([]);
    expect(document).toBeDefined();
  });

  it('is an AsyncAPI 3.0 document of one channel on ws://localhost:8080/v1/ws', () => {
    expect(document?.version()).toBe('3.0.0');
    const servers = document?.servers().all() ?? [];
    expect(servers.map((s) => s.url())).toEqual(['ws://localhost:8080/v1/ws']);
    expect(document?.channels().all()).toHaveLength(1);
  });

  it('has a receive operation for every client message and a send operation for every server message', () => {
    const operations = document?.operations().all() ?? [];
    const names = (action: 'send' | 'receive'): string[] =>
      operations
        .filter((o) => o.action() === action)
        .flatMap((o) => o.messages().all().map((m) => m.name() ?? ''));
    expect(new Set(names('receive'))).toEqual(new Set(clientMessageTypes));
    const sentOrReplied = [
      ...names('send'),
      ...operations.flatMap((o) => o.reply()?.messages().all().map((m) => m.name() ?? '') ?? []),
    ];
    expect(new Set(sentOrReplied)).toEqual(new Set(serverMessageTypes));
  });

  it('inlines exactly the JSON Schema files (regenerate with RUNCAST_UPDATE_ASYNCAPI=1)', () => {
    expect(doc.components.schemas).toEqual(buildAsyncApiSchemas());
  });

  it('declares one message per message type, each with the payload schema of its type', () => {
    const expected = [...clientMessageTypes, ...serverMessageTypes].sort();
    expect(Object.keys(doc.components.messages).sort()).toEqual(expected);
    expect(Object.keys(doc.channels.runcast.messages).sort()).toEqual(expected);
    for (const type of expected) {
      const schemaName = type === 'event' ? 'EventMessage' : `${type[0].toUpperCase()}${type.slice(1)}Message`;
      expect(doc.components.messages[type].payload).toEqual({ $ref: `#/components/schemas/${schemaName}` });
    }
  });

  const examples = Object.entries(doc.components.messages).flatMap(([type, message]) =>
    (message.examples ?? []).map((e): [string, string, unknown] => [type, e.name, e.payload]),
  );

  it('has an example of every message', () => {
    expect(new Set(examples.map(([type]) => type))).toEqual(new Set([...clientMessageTypes, ...serverMessageTypes]));
  });

  it.each(examples)('example %s/%s is valid against the schemas', (type, _name, payload) => {
    expect(payload).toMatchObject({ type });
    const problems = (clientMessageTypes as string[]).includes(type) ? validateClientMessage(payload) : validateServerMessage(payload);
    expect(problems).toEqual([]);
  });
});
