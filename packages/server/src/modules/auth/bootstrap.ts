import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import path from 'node:path';
import type { Db } from '../../db/database.js';
import type { ServerConfig } from '../../config.js';
import { newAccessKey, newId, newSecretKey } from '../../util/ids.js';
import { isoDate, type Clock } from '../../util/time.js';
import { hashSecret } from './secrets.js';

/** ClearML's default company id (clearml-api.md §1.7), so ids look familiar to ClearML tools. */
export const DEFAULT_COMPANY_ID = 'd1bd92a3b039400cbafc60a7a5b1e52b';
export const DEFAULT_COMPANY_NAME = 'cairn';
export const ADMIN_USER_NAME = 'admin';
export const CREDENTIALS_FILE = 'credentials.json';
const SECRETS_FILE = 'secrets.json';

export interface AdminCredentials {
  accessKey: string;
  secretKey: string;
  username: string;
  password: string;
}

/**
 * The token signing secret. Order: the configured one; on PostgreSQL the one in the database (every
 * process behind a load balancer must share it); else `<data>/secrets.json`, created with mode 0600.
 */
export async function ensureSigningSecret(config: ServerConfig, db: Db): Promise<string> {
  if (config.signingSecret) return config.signingSecret;
  if (db.dialect === 'postgres') {
    await db.kysely
      .insertInto('settings')
      .values({ key: 'signing_secret', value: randomBytes(48).toString('base64url') })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const row = await db.kysely.selectFrom('settings').select('value').where('key', '=', 'signing_secret').executeTakeFirstOrThrow();
    return row.value;
  }
  const file = path.join(config.dataDir, SECRETS_FILE);
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { signing_secret?: string };
    if (stored.signing_secret) return stored.signing_secret;
  }
  const secret = randomBytes(48).toString('base64url');
  writePrivateFile(file, JSON.stringify({ signing_secret: secret }, null, 2) + '\n');
  return secret;
}

/**
 * On first start, creates the company, the admin user, its key pair and web password, stores them in
 * `<data>/credentials.json` (0600) and returns them so they can be printed once. Later starts return
 * undefined. The company row is the lock: of several processes starting together, one creates it.
 */
export async function ensureAdmin(config: ServerConfig, db: Db, clock: Clock): Promise<AdminCredentials | undefined> {
  const now = isoDate(clock.now());
  const inserted = await db.kysely
    .insertInto('companies')
    .values({ id: DEFAULT_COMPANY_ID, name: DEFAULT_COMPANY_NAME, created: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  if (!inserted.numInsertedOrUpdatedRows) return undefined;

  const admin: AdminCredentials = {
    accessKey: newAccessKey(),
    secretKey: newSecretKey(),
    username: ADMIN_USER_NAME,
    password: randomBytes(12).toString('base64url'),
  };
  const userId = newId();
  await db.transaction(async (trx) => {
    await trx.kysely
      .insertInto('users')
      .values({
        id: userId,
        company: DEFAULT_COMPANY_ID,
        name: ADMIN_USER_NAME,
        given_name: 'Cairn',
        family_name: 'Admin',
        avatar: null,
        email: 'admin@localhost',
        role: 'admin',
        created: now,
        preferences: '{}',
        password_hash: await hashSecret(admin.password),
      })
      .execute();
    await trx.kysely
      .insertInto('credentials')
      .values({
        access_key: admin.accessKey,
        secret_hash: await hashSecret(admin.secretKey),
        user: userId,
        company: DEFAULT_COMPANY_ID,
        label: 'admin (created at first start)',
        created: now,
        last_used: null,
        last_used_from: null,
      })
      .execute();
  });
  writePrivateFile(
    path.join(config.dataDir, CREDENTIALS_FILE),
    JSON.stringify({ access_key: admin.accessKey, secret_key: admin.secretKey, username: admin.username, password: admin.password }, null, 2) + '\n',
  );
  return admin;
}

function writePrivateFile(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}
