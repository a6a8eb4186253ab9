/**
 * Checks every object-store driver (S3, GCS, Azure) must pass the same way, each against its own real server;
 * the driver tests call them with their driver, a manager over it and a base URI in a bucket or container.
 */
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { StorageManager } from '../src/storage/manager.js';
import { EMPTY_SHA256 } from '../src/storage/transfer.js';
import type { StorageDriver } from '../src/storage/types.js';
import { sha256File } from './fixtures/files.js';

export interface ContractSubject {
  driver: StorageDriver;
  manager: StorageManager;
  /** A folder for local files. */
  work: string;
  /** A small local file and its SHA-256. */
  small: string;
  smallSha: string;
}

/** An empty file, and keys with a space, `%3F` and non-ASCII characters, round-trip as written under `base`. */
export async function checkEmptyAndOddKeys({ driver, manager, work, small, smallSha }: ContractSubject, base: string): Promise<void> {
  const empty = path.join(work, 'empty.bin');
  writeFileSync(empty, '');
  assert.deepEqual(await manager.upload(empty, `${base}/empty.bin`), { uri: `${base}/empty.bin`, sha256: EMPTY_SHA256, size: 0 });
  assert.deepEqual(await driver.download(`${base}/empty.bin`, path.join(work, `empty-${Date.now()}.bin`)), { sha256: EMPTY_SHA256, size: 0 });
  const odd = `${base}/a%3Fb/é x.bin`;
  await manager.upload(small, odd);
  const listed = [];
  for await (const item of driver.list(`${base}/a%3Fb/`)) listed.push(item.uri);
  assert.deepEqual(listed, [odd]);
  assert.equal(sha256File(await manager.getLocalCopy(odd, { expectedSha256: smallSha })), smallSha);
}

/** Objects under `base` are listed with their sizes, headed and deleted; a second delete says there was nothing. */
export async function checkHeadListDelete({ driver, manager, small }: ContractSubject, base: string): Promise<void> {
  for (const name of ['a.bin', 'b.bin', 'sub/c.bin']) await manager.upload(small, `${base}/${name}`);
  const listed = [];
  for await (const item of driver.list(`${base}/`)) listed.push([item.uri, item.size]);
  assert.deepEqual(listed, ['a.bin', 'b.bin', 'sub/c.bin'].map((n) => [`${base}/${n}`, statSync(small).size]));
  assert.deepEqual(await driver.head(`${base}/a.bin`), { uri: `${base}/a.bin`, size: statSync(small).size });
  assert.equal(await manager.delete(`${base}/a.bin`), true);
  assert.equal(await driver.head(`${base}/a.bin`), undefined);
  assert.equal(await manager.delete(`${base}/a.bin`), false);
}
