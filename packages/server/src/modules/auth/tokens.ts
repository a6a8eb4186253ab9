import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { COMPATIBLE_SERVER_VERSION, MAX_API_VERSION, TokenClaims, type Identity } from '@cairn/protocol';
import { newId } from '../../util/ids.js';
import type { Clock } from '../../util/time.js';

export const CAIRN_VERSION = '0.1.0';

/** Verified tokens kept in memory so a busy client does not pay a signature check per call. */
const VERIFIED_CACHE_SIZE = 1000;

export class TokenService {
  private readonly key: Uint8Array;
  private readonly verified = new Map<string, TokenClaims>();

  constructor(secret: string, private readonly clock: Clock) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(identity: Identity, expirationSec: number): Promise<{ token: string; claims: TokenClaims }> {
    const iat = Math.floor(this.clock.now() / 1000);
    const claims: TokenClaims = {
      identity,
      session_id: newId(),
      api_version: MAX_API_VERSION,
      server_version: COMPATIBLE_SERVER_VERSION,
      server_build: `cairn-${CAIRN_VERSION}`,
      feature_set: 'basic',
      iat,
      exp: iat + expirationSec,
    };
    const token = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(this.key);
    return { token, claims };
  }

  /** The token's claims, or undefined when it is malformed, forged or expired. */
  async verify(token: string): Promise<TokenClaims | undefined> {
    const nowSec = Math.floor(this.clock.now() / 1000);
    const cached = this.verified.get(token);
    if (cached) return cached.exp !== undefined && cached.exp <= nowSec ? undefined : cached;
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], currentDate: new Date(this.clock.now()) });
      const claims = TokenClaims.safeParse(payload);
      if (!claims.success) return undefined;
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, claims.data);
      return claims.data;
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) return undefined;
      throw err;
    }
  }

  forget(token: string): void {
    this.verified.delete(token);
  }
}
