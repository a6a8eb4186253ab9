import { randomBytes, randomUUID } from 'node:crypto';

/** 32 hex characters: a uuid4 without dashes, the shape of every ClearML id. */
export function newId(): string {
  return randomUUID().replaceAll('-', '');
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** An access key: 30 characters from A–Z0–9, as ClearML issues them. */
export function newAccessKey(): string {
  const bytes = randomBytes(30);
  let key = '';
  // 256 % 36 = 4: the bias toward the first four letters is below 2 %, and keys are identifiers, not secrets.
  for (const b of bytes) key += KEY_ALPHABET[b % KEY_ALPHABET.length];
  return key;
}

/** A secret key: 50 random bytes, URL-safe base64 (~67 characters), never starting with `-` or `_`. */
export function newSecretKey(): string {
  for (;;) {
    const secret = randomBytes(50).toString('base64url');
    if (!secret.startsWith('-') && !secret.startsWith('_')) return secret;
  }
}
