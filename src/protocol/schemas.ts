/**
 * The JSON Schemas of the protocol and of workflow definitions (the files in
 * `schemas/`), loaded as JSON modules so this stays browser-safe and bundles cleanly.
 * `schemaNames` backs `GET /schemas/<name>.json`.
 */
import asyncApiDocument from '../../schemas/asyncapi.json';
import clientMessageSchema from '../../schemas/client-message.schema.json';
import httpSchema from '../../schemas/http.schema.json';
import runEventSchema from '../../schemas/run-event.schema.json';
import serverMessageSchema from '../../schemas/server-message.schema.json';
import workflowSchema from '../../schemas/workflow.schema.json';

export { asyncApiDocument, clientMessageSchema, httpSchema, runEventSchema, serverMessageSchema, workflowSchema };

/** Prefix of every schema `$id`: `https://runcast.dev/schemas/<name>.json`. */
export const SCHEMA_BASE_URI = 'https://runcast.dev/schemas/';

/** The JSON Schema files (not the AsyncAPI document), in dependency order. */
export const jsonSchemas = [workflowSchema, clientMessageSchema, runEventSchema, serverMessageSchema, httpSchema] as const;

export type SchemaName = 'client-message' | 'server-message' | 'run-event' | 'workflow' | 'http' | 'asyncapi';

/**
 * Every published document by name, for `GET /schemas/<name>.json`. The JSON Schemas
 * reference each other relatively (`workflow.json#/definitions/Identifier`), so they
 * resolve both against their `$id` and against the URL they are served from. Treat the
 * objects as read-only: they are shared with the validators.
 */
export const schemaNames: Readonly<Record<SchemaName, object>> = Object.freeze({
  'client-message': clientMessageSchema,
  'server-message': serverMessageSchema,
  'run-event': runEventSchema,
  workflow: workflowSchema,
  http: httpSchema,
  asyncapi: asyncApiDocument,
});

/** Whether `name` is one of {@link schemaNames} (guards route parameters). */
export function isSchemaName(name: string): name is SchemaName {
  return Object.prototype.hasOwnProperty.call(schemaNames, name);
}
