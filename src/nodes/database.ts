/**
 * `database`: one operation on a collection of the document store (`insertOne`,
 * `findOne`, `findMany`, `updateOne`, `deleteOne`).
 */
import { NodeError, type NodeType } from '../executor/node-type';
import { DEFAULT_FIND_LIMIT, type DocumentFilter, type DocumentStore } from './document-store';

/** The operations of a `database` node. */
export const DATABASE_OPERATIONS = ['insertOne', 'findOne', 'findMany', 'updateOne', 'deleteOne'] as const;
export type DatabaseOperation = (typeof DATABASE_OPERATIONS)[number];

/** Most documents a `findMany` may ask for. */
export const MAX_FIND_LIMIT = 10_000;

const needs = (operation: DatabaseOperation, required: string[]) => ({
  if: { type: 'object', required: ['operation'], properties: { operation: { const: operation } } },
  then: { required },
});

/**
 * Create the `database` node type. Config: `collection` (`^[A-Za-z0-9_-]{1,64}$`),
 * `operation`, `filter` (equality on top-level fields; values string, number, boolean
 * or null), `data` (object), `limit` (findMany, 1..10000, default 1000). `insertOne`
 * and `updateOne` need `data`; `updateOne` and `deleteOne` need a `filter` (`{}` to
 * take the first document). Output: insertOne → the inserted document (with `id`);
 * findOne → the document or null; findMany → an array; updateOne → `{matched, modified}`;
 * deleteOne → `{deleted}`.
 *
 * @throws NodeError `db_error` on bad filters or data, a duplicate id, a storage failure.
 */
export function createDatabaseNode(deps: { store: DocumentStore }): NodeType {
  const { store } = deps;
  return {
    type: 'database',
    configSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      required: ['collection', 'operation'],
      additionalProperties: false,
      properties: {
        collection: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
        operation: { type: 'string', enum: [...DATABASE_OPERATIONS] },
        filter: { type: 'object', propertyNames: { pattern: '^[A-Za-z0-9_]{1,64}$' } },
        data: { type: 'object' },
        limit: { type: 'integer', minimum: 1, maximum: MAX_FIND_LIMIT, default: DEFAULT_FIND_LIMIT },
      },
      allOf: [needs('insertOne', ['data']), needs('updateOne', ['filter', 'data']), needs('deleteOne', ['filter'])],
    },
    async run(ctx) {
      const collection = ctx.config['collection'] as string;
      const operation = ctx.config['operation'] as DatabaseOperation;
      const filter = (ctx.config['filter'] ?? {}) as DocumentFilter;
      const data = ctx.config['data'] as Record<string, unknown>;
      try {
        switch (operation) {
          case 'insertOne':
            return { output: await store.insertOne(collection, data) };
          case 'findOne':
            return { output: await store.findOne(collection, filter) };
          case 'findMany': {
            const limit = (ctx.config['limit'] as number | undefined) ?? DEFAULT_FIND_LIMIT;
            return { output: await store.findMany(collection, filter, { limit }) };
          }
          case 'updateOne':
            return { output: await store.updateOne(collection, filter, data) };
          case 'deleteOne':
            return { output: await store.deleteOne(collection, filter) };
          default:
            throw new NodeError('db_error', `unknown database operation "${String(operation)}"`);
        }
      } catch (err) {
        if (err instanceof NodeError) throw err;
        throw new NodeError('db_error', `${operation} on "${collection}": ${(err as Error).message}`);
      }
    },
  };
}
