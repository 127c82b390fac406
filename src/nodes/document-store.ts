/**
 * The document store behind the `database` node: JSON documents in named collections,
 * found by equality on top-level fields. The default implementation is an embedded
 * SQLite file (better-sqlite3), nothing to install.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { RuncastError } from '../protocol/errors';

/** A stored document: a JSON object with an `id` (string or number). */
export type StoredDocument = Record<string, unknown>;

/** A filter value: equality with a string, number, boolean or null (no nested values). */
export type FilterValue = string | number | boolean | null;

/** Equality on top-level fields; `{}` matches every document. Keys: `^[A-Za-z0-9_]{1,64}$`. */
export type DocumentFilter = Record<string, FilterValue>;

/**
 * Documents in collections. Every method rejects with a `RuncastError` (`db_error`) on
 * bad input (collection name, filter key or value, a duplicate id) or a storage failure.
 * "First" means first inserted.
 */
export interface DocumentStore {
  /** Insert `data`; it gets a generated `id` unless it has one (string or number). Resolves to the stored document. */
  insertOne(collection: string, data: Record<string, unknown>): Promise<StoredDocument>;
  /** The first matching document, or null. */
  findOne(collection: string, filter: DocumentFilter): Promise<StoredDocument | null>;
  /** Matching documents in insertion order, at most `limit` (default 1000). */
  findMany(collection: string, filter: DocumentFilter, options?: { limit?: number }): Promise<StoredDocument[]>;
  /** Shallow-merge `data` into the first matching document; its `id` cannot change. */
  updateOne(collection: string, filter: DocumentFilter, data: Record<string, unknown>): Promise<{ matched: number; modified: number }>;
  /** Delete the first matching document. */
  deleteOne(collection: string, filter: DocumentFilter): Promise<{ deleted: number }>;
  /** Close the store; calling it twice is harmless. */
  close(): Promise<void>;
}

/** Collection names, as in the `database` node's config. */
export const COLLECTION_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Filter keys (top-level field names). */
export const FILTER_KEY_PATTERN = /^[A-Za-z0-9_]{1,64}$/;
/** Documents `findMany` returns when no limit is given. */
export const DEFAULT_FIND_LIMIT = 1000;

function dbError(message: string, cause?: unknown): RuncastError {
  return new RuncastError('db_error', message, cause !== undefined ? { cause } : {});
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkCollection(collection: string): void {
  if (typeof collection !== 'string' || !COLLECTION_PATTERN.test(collection))
    throw dbError(`invalid collection name (use 1-64 letters, digits, "_" or "-")`);
}

/**
 * Build the WHERE clause of a filter. Values and JSON paths are bound parameters; the
 * only text put into SQL is fixed, so no user value can change the statement.
 */
function whereClause(collection: string, filter: DocumentFilter): { sql: string; params: unknown[] } {
  checkCollection(collection);
  if (!isPlainObject(filter)) throw dbError('filter must be an object');
  const parts = ['collection = ?'];
  const params: unknown[] = [collection];
  for (const [key, value] of Object.entries(filter)) {
    if (!FILTER_KEY_PATTERN.test(key)) throw dbError(`invalid filter key "${key.slice(0, 64)}" (use 1-64 letters, digits or "_")`);
    const path = `$."${key}"`;
    if (value === null) {
      parts.push(`json_type(doc, ?) = 'null'`);
      params.push(path);
    } else if (typeof value === 'boolean') {
      parts.push('json_type(doc, ?) = ?');
      params.push(path, value ? 'true' : 'false');
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      parts.push(`(json_type(doc, ?) IN ('integer', 'real') AND json_extract(doc, ?) = ?)`);
      params.push(path, path, value);
    } else if (typeof value === 'string') {
      parts.push(`(json_type(doc, ?) = 'text' AND json_extract(doc, ?) = ?)`);
      params.push(path, path, value);
    } else {
      throw dbError(`filter value for "${key}" must be a string, number, boolean or null`);
    }
  }
  return { sql: parts.join(' AND '), params };
}

function parseDoc(text: string): StoredDocument {
  return JSON.parse(text) as StoredDocument;
}

/** Options of `createSqliteDocumentStore`. */
export interface SqliteDocumentStoreOptions {
  /** Directory of the database file `runcast.db` (created when missing). */
  dataDir: string;
}

/**
 * Open (or create) the SQLite document store `<dataDir>/runcast.db`, in WAL mode. One
 * table `documents(collection, id, doc)`; documents survive closing and reopening.
 *
 * @throws Error when the directory cannot be created or the file cannot be opened.
 */
export function createSqliteDocumentStore({ dataDir }: SqliteDocumentStoreOptions): DocumentStore {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, 'runcast.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (collection, id)
  )`);
  const insert = db.prepare('INSERT INTO documents (collection, id, doc) VALUES (?, ?, ?)');
  const updateDoc = db.prepare('UPDATE documents SET doc = ? WHERE rowid = ?');
  const deleteRow = db.prepare('DELETE FROM documents WHERE rowid = ?');

  // Statements depend only on the filter's shape (its keys and value kinds), so a
  // handful of them are reused; the cache is bounded all the same.
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let stmt = statements.get(sql);
    if (!stmt) {
      if (statements.size >= 200) statements.clear();
      stmt = db.prepare(sql);
      statements.set(sql, stmt);
    }
    return stmt;
  };

  const firstMatch = (collection: string, filter: DocumentFilter): { rowid: number; doc: string } | undefined => {
    const where = whereClause(collection, filter);
    const stmt = prepare(`SELECT rowid, doc FROM documents WHERE ${where.sql} ORDER BY rowid LIMIT 1`);
    return stmt.get(...where.params) as { rowid: number; doc: string } | undefined;
  };

  // Runs `fn`, turning anything it throws into a db_error.
  const guarded = <T>(what: string, fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      if (err instanceof RuncastError) return Promise.reject(err);
      return Promise.reject(dbError(`${what} failed: ${(err as Error).message}`, err));
    }
  };

  const update = db.transaction((collection: string, filter: DocumentFilter, data: Record<string, unknown>) => {
    const row = firstMatch(collection, filter);
    if (!row) return { matched: 0, modified: 0 };
    const old = parseDoc(row.doc);
    if (data['id'] !== undefined && data['id'] !== old['id']) throw dbError('the id of a document cannot be changed');
    const next = JSON.stringify({ ...old, ...data, id: old['id'] });
    if (next === row.doc) return { matched: 1, modified: 0 };
    updateDoc.run(next, row.rowid);
    return { matched: 1, modified: 1 };
  });

  const remove = db.transaction((collection: string, filter: DocumentFilter) => {
    const row = firstMatch(collection, filter);
    if (!row) return { deleted: 0 };
    return { deleted: deleteRow.run(row.rowid).changes };
  });

  return {
    insertOne: (collection, data) =>
      guarded('insertOne', () => {
        checkCollection(collection);
        if (!isPlainObject(data)) throw dbError('the document to insert must be an object');
        const given = data['id'];
        if (given !== undefined && !(typeof given === 'string' && given !== '') && !(typeof given === 'number' && Number.isFinite(given)))
          throw dbError('a document id must be a non-empty string or a number');
        const doc: StoredDocument = given === undefined ? { id: nanoid(), ...data } : { ...data };
        try {
          insert.run(collection, String(doc['id']), JSON.stringify(doc));
        } catch (err) {
          if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
            throw dbError(`a document with id "${String(doc['id'])}" already exists in "${collection}"`, err);
          throw err;
        }
        // What was stored, as a reader will see it (JSON round trip).
        return parseDoc(JSON.stringify(doc));
      }),
    findOne: (collection, filter) =>
      guarded('findOne', () => {
        const row = firstMatch(collection, filter);
        return row ? parseDoc(row.doc) : null;
      }),
    findMany: (collection, filter, options = {}) =>
      guarded('findMany', () => {
        const limit = options.limit ?? DEFAULT_FIND_LIMIT;
        if (!Number.isInteger(limit) || limit < 1) throw dbError('limit must be a positive integer');
        const where = whereClause(collection, filter);
        const stmt = prepare(`SELECT doc FROM documents WHERE ${where.sql} ORDER BY rowid LIMIT ?`);
        return (stmt.all(...where.params, limit) as { doc: string }[]).map((r) => parseDoc(r.doc));
      }),
    updateOne: (collection, filter, data) =>
      guarded('updateOne', () => {
        if (!isPlainObject(data)) throw dbError('the update data must be an object');
        return update(collection, filter, data);
      }),
    deleteOne: (collection, filter) => guarded('deleteOne', () => remove(collection, filter)),
    close: async () => {
      if (db.open) db.close();
    },
  };
}
