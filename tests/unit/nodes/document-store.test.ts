import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteDocumentStore, type DocumentStore } from '../../../src/nodes/document-store';

describe('createSqliteDocumentStore', () => {
  let dataDir: string;
  let store: DocumentStore;

  beforeEach(() => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'runcast-store-')), 'nested', 'data');
    store = createSqliteDocumentStore({ dataDir });
  });

  afterEach(async () => {
    await store.close();
    rmSync(join(dataDir, '..', '..'), { recursive: true, force: true });
  });

  it('creates <dataDir>/runcast.db (mkdir -p) in WAL mode with the documents table', () => {
    const file = join(dataDir, 'runcast.db');
    expect(existsSync(file)).toBe(true);
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const columns = (db.prepare('PRAGMA table_info(documents)').all() as { name: string; pk: number }[]).map((c) => [c.name, c.pk]);
      expect(columns).toEqual([
        ['collection', 1],
        ['id', 2],
        ['doc', 0],
      ]);
    } finally {
      db.close();
    }
  });

  describe('#insertOne', () => {
    it('generates an id unless the data has one', async () => {
      const a = await store.insertOne('users', { email: 'a@x.io' });
      expect(a).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9_-]{21}$/), email: 'a@x.io' });
      const b = await store.insertOne('users', { id: 'mine', email: 'b@x.io' });
      expect(b).toEqual({ id: 'mine', email: 'b@x.io' });
      const c = await store.insertOne('users', { id: 7 });
      expect(c).toEqual({ id: 7 });
      expect(await store.findOne('users', { id: 7 })).toEqual({ id: 7 });
    });

    it('refuses a duplicate id in the same collection, not in another', async () => {
      await store.insertOne('users', { id: 'x' });
      await expect(store.insertOne('users', { id: 'x' })).rejects.toMatchObject({
        code: 'db_error',
        message: 'a document with id "x" already exists in "users"',
      });
      await expect(store.insertOne('orders', { id: 'x' })).resolves.toEqual({ id: 'x' });
    });

    it.each<[string, unknown]>([
      ['an array', [1]],
      ['null', null],
      ['an object id', { id: { a: 1 } }],
      ['an empty string id', { id: '' }],
      ['a boolean id', { id: true }],
    ])('refuses %s', async (_name, data) => {
      await expect(store.insertOne('users', data as Record<string, unknown>)).rejects.toMatchObject({ code: 'db_error' });
    });
  });

  describe('#findOne / #findMany', () => {
    beforeEach(async () => {
      await store.insertOne('items', { id: '1', name: 'apple', qty: 3, fresh: true, tag: null });
      await store.insertOne('items', { id: '2', name: 'pear', qty: 3.0, fresh: false });
      await store.insertOne('items', { id: '3', name: 'plum', qty: '3', fresh: 1 });
      await store.insertOne('other', { id: '4', name: 'apple' });
    });

    it.each<[string, Record<string, string | number | boolean | null>, string[]]>([
      ['an empty filter', {}, ['1', '2', '3']],
      ['a string', { name: 'apple' }, ['1']],
      ['a number (not its text)', { qty: 3 }, ['1', '2']],
      ['a text (not a number)', { qty: '3' }, ['3']],
      ['true (not 1)', { fresh: true }, ['1']],
      ['false', { fresh: false }, ['2']],
      ['the number 1 (not true)', { fresh: 1 }, ['3']],
      ['null (not a missing field)', { tag: null }, ['1']],
      ['several fields', { qty: 3, fresh: false }, ['2']],
      ['a missing field', { color: 'red' }, []],
      ['the id', { id: '2' }, ['2']],
    ])('findMany matches %s', async (_name, filter, ids) => {
      expect((await store.findMany('items', filter)).map((d) => d['id'])).toEqual(ids);
    });

    it('findOne returns the first inserted match, or null', async () => {
      expect(await store.findOne('items', { qty: 3 })).toEqual({ id: '1', name: 'apple', qty: 3, fresh: true, tag: null });
      expect(await store.findOne('items', { name: 'kiwi' })).toBeNull();
      expect(await store.findOne('empty', {})).toBeNull();
    });

    it('findMany honours the limit', async () => {
      expect((await store.findMany('items', {}, { limit: 2 })).map((d) => d['id'])).toEqual(['1', '2']);
      await expect(store.findMany('items', {}, { limit: 0 })).rejects.toMatchObject({ code: 'db_error' });
    });

    it('treats filter values as data, never as SQL', async () => {
      expect(await store.findMany('items', { name: "apple' OR '1'='1" })).toEqual([]);
      expect(await store.findMany('items', { name: 'apple") OR 1=1 --' })).toEqual([]);
      expect(await store.findMany('items', {})).toHaveLength(3);
    });

    it.each<[string, Record<string, unknown>]>([
      ['a key with a quote', { "name'": 'x' }],
      ['a key with a dot', { 'a.b': 1 }],
      ['a key with a JSON path', { 'name") OR 1=1 --': 'x' }],
      ['an empty key', { '': 1 }],
      ['a 65-character key', { ['k'.repeat(65)]: 1 }],
      ['an object value', { name: { $ne: 'x' } }],
      ['an array value', { name: ['apple'] }],
    ])('refuses a filter with %s', async (_name, filter) => {
      await expect(store.findMany('items', filter as Record<string, string>)).rejects.toMatchObject({ code: 'db_error' });
    });

    it.each<[string]>([['bad name'], [''], ['a/b'], ['x'.repeat(65)], ["x'; DROP TABLE documents; --"]])(
      'refuses the collection name %j',
      async (collection) => {
        await expect(store.findOne(collection, {})).rejects.toMatchObject({ code: 'db_error' });
      },
    );
  });

  describe('#updateOne', () => {
    it('shallow-merges into the first match and reports matched and modified', async () => {
      await store.insertOne('users', { id: 'a', name: 'A', address: { city: 'X', zip: '1' }, n: 1 });
      await store.insertOne('users', { id: 'b', name: 'A', n: 2 });
      expect(await store.updateOne('users', { name: 'A' }, { address: { city: 'Y' }, extra: true })).toEqual({ matched: 1, modified: 1 });
      expect(await store.findOne('users', { id: 'a' })).toEqual({ id: 'a', name: 'A', address: { city: 'Y' }, n: 1, extra: true });
      expect(await store.findOne('users', { id: 'b' })).toEqual({ id: 'b', name: 'A', n: 2 });
    });

    it('reports modified 0 when nothing changes, and matched 0 without a match', async () => {
      await store.insertOne('users', { id: 'a', n: 1 });
      expect(await store.updateOne('users', { id: 'a' }, { n: 1 })).toEqual({ matched: 1, modified: 0 });
      expect(await store.updateOne('users', { id: 'zzz' }, { n: 2 })).toEqual({ matched: 0, modified: 0 });
    });

    it('refuses to change the id', async () => {
      await store.insertOne('users', { id: 'a' });
      await expect(store.updateOne('users', { id: 'a' }, { id: 'b' })).rejects.toMatchObject({ code: 'db_error' });
      expect(await store.findOne('users', { id: 'a' })).toEqual({ id: 'a' });
    });
  });

  describe('#deleteOne', () => {
    it('deletes only the first match', async () => {
      await store.insertOne('users', { id: 'a', role: 'x' });
      await store.insertOne('users', { id: 'b', role: 'x' });
      expect(await store.deleteOne('users', { role: 'x' })).toEqual({ deleted: 1 });
      expect((await store.findMany('users', {})).map((d) => d['id'])).toEqual(['b']);
      expect(await store.deleteOne('users', { role: 'y' })).toEqual({ deleted: 0 });
    });
  });

  it('keeps the data when the store is closed and opened again', async () => {
    const inserted = await store.insertOne('users', { email: 'persist@x.io' });
    await store.updateOne('users', { email: 'persist@x.io' }, { verified: true });
    await store.close();
    await store.close(); // twice is harmless
    await expect(store.findOne('users', {})).rejects.toMatchObject({ code: 'db_error' });
    store = createSqliteDocumentStore({ dataDir });
    expect(await store.findMany('users', {})).toEqual([{ id: inserted['id'], email: 'persist@x.io', verified: true }]);
  });
});
