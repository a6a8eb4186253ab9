import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Transaction } from 'kysely';
import type { Schema } from './schema.js';
import { migrations, type MigrationContext } from './migrations/index.js';
import { compileRegex } from './regex.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Db {
  readonly kysely: Kysely<Schema>;
  readonly dialect: DialectName;
  /** Runs `fn` in one transaction; nested calls reuse the outer one. */
  transaction<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Connections per server process on PostgreSQL: requests are short, several processes share one server. */
const PG_POOL_SIZE = 10;
/** How long SQLite waits for a lock held by another process before answering busy. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

export interface OpenOptions {
  /** `postgres://...`; absent means SQLite in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  /** PostgreSQL schema to use (tests give each server its own). */
  pgSchema?: string;
}

export async function openDatabase(options: OpenOptions): Promise<Db> {
  const isPostgres = !!options.databaseUrl && /^postgres(ql)?:\/\//.test(options.databaseUrl);
  let kysely: Kysely<Schema>;
  if (isPostgres) {
    // node-postgres loads only for PostgreSQL: a SQLite server has no use for its memory.
    const { default: pg } = await import('pg');
    // int8 (bigint) and count(*) come back as strings from node-postgres; every such value here fits a double.
    pg.types.setTypeParser(20, (v) => Number(v));
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: PG_POOL_SIZE,
      ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}),
    });
    if (options.pgSchema) {
      const client = await pool.connect();
      try {
        await client.query(`create schema if not exists "${options.pgSchema.replaceAll('"', '')}"`);
      } finally {
        client.release();
      }
    }
    kysely = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  } else {
    mkdirSync(options.dataDir, { recursive: true });
    const file = path.join(options.dataDir, 'cairn.sqlite');
    const sqlite = new BetterSqlite3(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    sqlite.pragma('foreign_keys = ON');
    // ClearML filters are Python regexes; SQLite has no REGEXP of its own.
    sqlite.function('regexp', { deterministic: true }, (pattern: unknown, value: unknown) => {
      if (value === null || value === undefined) return 0;
      return compileRegex(String(pattern), false).test(String(value)) ? 1 : 0;
    });
    sqlite.function('regexp_i', { deterministic: true }, (pattern: unknown, value: unknown) => {
      if (value === null || value === undefined) return 0;
      return compileRegex(String(pattern), true).test(String(value)) ? 1 : 0;
    });
    kysely = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) });
  }
  const dialect: DialectName = isPostgres ? 'postgres' : 'sqlite';
  await migrate(kysely, dialect, options.pgSchema);
  return wrap(kysely, dialect, () => kysely.destroy());
}

function wrap(kysely: Kysely<Schema>, dialect: DialectName, close: () => Promise<void>, inTransaction = false): Db {
  const db: Db = {
    kysely,
    dialect,
    async transaction(fn) {
      if (inTransaction) return fn(db);
      return kysely.transaction().execute((trx: Transaction<Schema>) => fn(wrap(trx, dialect, async () => {}, true)));
    },
    close,
  };
  return db;
}

async function migrate(kysely: Kysely<Schema>, dialect: DialectName, pgSchema?: string): Promise<void> {
  const ctx: MigrationContext = {
    dialect,
    json: dialect === 'postgres' ? 'jsonb' : 'text',
    bigint: dialect === 'postgres' ? 'bigint' : 'integer',
  };
  const migrator = new Migrator({
    db: kysely,
    provider: { getMigrations: async () => migrations(ctx) },
    // Kysely looks for its bookkeeping tables in any schema unless told which: each database (and each
    // test schema) keeps its own.
    ...(dialect === 'postgres' ? { migrationTableSchema: pgSchema ?? 'public' } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
