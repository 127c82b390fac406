import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabaseNode } from '../../../src/nodes/database';
import { createSqliteDocumentStore, type DocumentStore } from '../../../src/nodes/document-store';
import { configValidator, makeContext } from '../../helpers/node-context';

describe('database', () => {
  let dataDir: string;
  let store: DocumentStore;
  const run = (config: Record<string, unknown>) => createDatabaseNode({ store }).run(makeContext({ config }));
  const output = async (config: Record<string, unknown>) => (await run(config)).output;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'runcast-db-'));
    store = createSqliteDocumentStore({ dataDir });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('configSchema', () => {
    const valid = configValidator(createDatabaseNode({ store: {} as DocumentStore }).configSchema);
    it.each<[string, unknown, boolean]>([
      ['insertOne with data', { collection: 'users', operation: 'insertOne', data: { a: 1 } }, true],
      ['findOne without filter', { collection: 'users', operation: 'findOne' }, true],
      ['findMany with filter and limit', { collection: 'users', operation: 'findMany', filter: { a: 1 }, limit: 5 }, true],
      ['updateOne with filter and data', { collection: 'u', operation: 'updateOne', filter: { id: 'x' }, data: { a: 1 } }, true],
      ['deleteOne with filter', { collection: 'u', operation: 'deleteOne', filter: {} }, true],
      ['a dashed collection', { collection: 'my-users_2', operation: 'findOne' }, true],
      ['no collection', { operation: 'findOne' }, false],
      ['no operation', { collection: 'users' }, false],
      ['an unknown operation', { collection: 'users', operation: 'drop' }, false],
      ['a collection with a space', { collection: 'my users', operation: 'findOne' }, false],
      ['a 65-character collection', { collection: 'c'.repeat(65), operation: 'findOne' }, false],
      ['insertOne without data', { collection: 'users', operation: 'insertOne' }, false],
      ['updateOne without filter', { collection: 'users', operation: 'updateOne', data: {} }, false],
      ['updateOne without data', { collection: 'users', operation: 'updateOne', filter: {} }, false],
      ['deleteOne without filter', { collection: 'users', operation: 'deleteOne' }, false],
      ['a bad filter key', { collection: 'users', operation: 'findOne', filter: { 'a.b': 1 } }, false],
      ['data as an array', { collection: 'users', operation: 'insertOne', data: [] }, false],
      ['limit 0', { collection: 'users', operation: 'findMany', limit: 0 }, false],
      ['limit above 10000', { collection: 'users', operation: 'findMany', limit: 10_001 }, false],
      ['an extra key', { collection: 'users', operation: 'findOne', sql: 'x' }, false],
    ])('%s: %j → valid %s', (_name, config, expected) => {
      expect(valid(config)).toBe(expected);
    });
  });

  describe('#run', () => {
    it('insertOne outputs the inserted document with a generated id', async () => {
      const doc = await output({ collection: 'users', operation: 'insertOne', data: { email: 'a@x.io' } });
      expect(doc).toEqual({ id: expect.any(String), email: 'a@x.io' });
    });

    it('insertOne keeps an id given in the data', async () => {
      expect(await output({ collection: 'users', operation: 'insertOne', data: { id: 'u1', n: 1 } })).toEqual({ id: 'u1', n: 1 });
    });

    it('findOne outputs the document, or null', async () => {
      await output({ collection: 'users', operation: 'insertOne', data: { id: 'u1', email: 'a@x.io' } });
      expect(await output({ collection: 'users', operation: 'findOne', filter: { email: 'a@x.io' } })).toEqual({ id: 'u1', email: 'a@x.io' });
      expect(await output({ collection: 'users', operation: 'findOne', filter: { email: 'no@x.io' } })).toBeNull();
    });

    it('findMany outputs an array, limited', async () => {
      for (const n of [1, 2, 3]) await output({ collection: 'nums', operation: 'insertOne', data: { n, kind: 'num' } });
      expect(await output({ collection: 'nums', operation: 'findMany', filter: { kind: 'num' } })).toHaveLength(3);
      const two = (await output({ collection: 'nums', operation: 'findMany', limit: 2 })) as { n: number }[];
      expect(two.map((d) => d.n)).toEqual([1, 2]);
      expect(await output({ collection: 'none', operation: 'findMany' })).toEqual([]);
    });

    it('updateOne outputs {matched, modified}', async () => {
      await output({ collection: 'users', operation: 'insertOne', data: { id: 'u1', n: 1 } });
      expect(await output({ collection: 'users', operation: 'updateOne', filter: { id: 'u1' }, data: { n: 2 } })).toEqual({ matched: 1, modified: 1 });
      expect(await output({ collection: 'users', operation: 'findOne', filter: { id: 'u1' } })).toEqual({ id: 'u1', n: 2 });
    });

    it('deleteOne outputs {deleted}', async () => {
      await output({ collection: 'users', operation: 'insertOne', data: { id: 'u1' } });
      expect(await output({ collection: 'users', operation: 'deleteOne', filter: { id: 'u1' } })).toEqual({ deleted: 1 });
      expect(await output({ collection: 'users', operation: 'deleteOne', filter: { id: 'u1' } })).toEqual({ deleted: 0 });
    });

    it.each<[string, Record<string, unknown>]>([
      ['a resolved filter value that is an object', { collection: 'users', operation: 'findOne', filter: { email: { $gt: '' } } }],
      ['a duplicate id', { collection: 'users', operation: 'insertOne', data: { id: 'dup' } }],
      ['resolved data that is not an object', { collection: 'users', operation: 'insertOne', data: 'x' }],
      ['an unknown operation', { collection: 'users', operation: 'drop' }],
    ])('fails with db_error for %s', async (_name, config) => {
      await store.insertOne('users', { id: 'dup' });
      await expect(run(config)).rejects.toMatchObject({ code: 'db_error' });
    });

    it('fails with db_error when the store is closed', async () => {
      await store.close();
      await expect(run({ collection: 'users', operation: 'findOne' })).rejects.toMatchObject({
        code: 'db_error',
        message: expect.stringContaining('findOne on "users"'),
      });
    });

    it('writes data that a reopened store still has', async () => {
      const doc = (await output({ collection: 'users', operation: 'insertOne', data: { email: 'keep@x.io' } })) as { id: string };
      await store.close();
      store = createSqliteDocumentStore({ dataDir });
      expect(await output({ collection: 'users', operation: 'findOne', filter: { id: doc.id } })).toEqual({ id: doc.id, email: 'keep@x.io' });
    });
  });
});
