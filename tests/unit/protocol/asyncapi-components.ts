/**
 * Derives `components.schemas` of schemas/asyncapi.json from the JSON Schema files, so
 * the AsyncAPI document cannot drift from them: every definition is hoisted to a
 * component of the same name, each root schema becomes a component named by its
 * `title`, and every `$ref` is rewritten to `#/components/schemas/<name>` (the AsyncAPI
 * parser does not resolve `$id`-relative references).
 */
import clientMessage from '../../../schemas/client-message.schema.json';
import runEvent from '../../../schemas/run-event.schema.json';
import serverMessage from '../../../schemas/server-message.schema.json';
import workflow from '../../../schemas/workflow.schema.json';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type SchemaFile = { $id: string; title: string; definitions?: Record<string, unknown> };

/** The schema files the WebSocket protocol uses (http.schema.json is not part of it). */
const files: SchemaFile[] = [clientMessage, serverMessage, runEvent, workflow];

const BASE = 'https://runcast.dev/schemas/';

export function buildAsyncApiSchemas(): Record<string, Json> {
  const rootName = new Map(files.map((f) => [f.$id, f.title]));
  const out: Record<string, Json> = {};
  const add = (name: string, schema: Json): void => {
    if (name in out) throw new Error(`two schemas would be named ${name} in components.schemas`);
    out[name] = schema;
  };
  for (const file of files) {
    const rewrite = (value: unknown): Json => {
      if (Array.isArray(value)) return value.map(rewrite);
      if (value === null || typeof value !== 'object') return value as Json;
      const result: { [key: string]: Json } = {};
      for (const [key, v] of Object.entries(value)) {
        result[key] = key === '$ref' && typeof v === 'string' ? refToComponent(v) : rewrite(v);
      }
      return result;
    };
    const refToComponent = (ref: string): string => {
      const [target, fragment = ''] = new URL(ref, file.$id).href.split('#');
      if (!target.startsWith(BASE)) throw new Error(`unexpected $ref ${ref}`);
      const defMatch = /^\/definitions\/([^/]+)$/.exec(fragment);
      if (defMatch) return `#/components/schemas/${defMatch[1]}`;
      const root = rootName.get(target);
      if (fragment !== '' || root === undefined) throw new Error(`cannot map $ref ${ref}`);
      return `#/components/schemas/${root}`;
    };
    const { $schema: _s, $id: _i, definitions, ...root } = file as SchemaFile & { $schema?: string };
    add(file.title, rewrite(root));
    for (const [name, def] of Object.entries(definitions ?? {})) add(name, rewrite(def));
  }
  return out;
}
