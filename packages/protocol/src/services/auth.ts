import { z } from 'zod';
import { op } from '../operation.js';
import { DateTime } from '../common.js';

const Credential = z.object({
  access_key: z.string(),
  label: z.string().nullish(),
  last_used: DateTime.nullish(),
  last_used_from: z.string().nullish(),
});

export const Identity = z.object({
  user: z.string(),
  company: z.string(),
  role: z.string(),
  user_name: z.string(),
  company_name: z.string(),
});
export type Identity = z.infer<typeof Identity>;

/** Claims of the HS256 token `auth.login` issues; the Python SDK reads `api_version` from it unverified. */
export const TokenClaims = z.object({
  identity: Identity,
  session_id: z.string(),
  api_version: z.string(),
  server_version: z.string(),
  server_build: z.string().optional(),
  feature_set: z.string(),
  iat: z.number(),
  exp: z.number().optional(),
});
export type TokenClaims = z.infer<typeof TokenClaims>;

/** A token may live at most a year (clearml-api.md §1.6). */
export const MAX_TOKEN_EXPIRATION_SEC = 31_536_000;
export const DEFAULT_TOKEN_EXPIRATION_SEC = 2_592_000;

export const auth = {
  login: op({
    endpoint: 'auth.login',
    summary: 'Exchange a key pair (Basic), a token or the session cookie for a token; also sets the session cookie.',
    request: z.object({ expiration_sec: z.number().int().positive().max(MAX_TOKEN_EXPIRATION_SEC).nullish() }),
    response: z.object({ token: z.string() }),
  }),
  logout: op({
    endpoint: 'auth.logout',
    minVersion: '2.2',
    summary: 'Revoke the current token and clear the session cookie.',
    request: z.object({}),
    response: z.object({}),
  }),
  create_credentials: op({
    endpoint: 'auth.create_credentials',
    minVersion: '2.1',
    summary: 'Create a new key pair for the caller. The secret is returned only here.',
    request: z.object({ label: z.string().nullish() }),
    response: z.object({ credentials: z.object({ access_key: z.string(), secret_key: z.string(), label: z.string().nullish() }) }),
  }),
  get_credentials: op({
    endpoint: 'auth.get_credentials',
    summary: "List the caller's key pairs (never their secrets).",
    request: z.object({}),
    response: z.object({ credentials: z.array(Credential) }),
  }),
  revoke_credentials: op({
    endpoint: 'auth.revoke_credentials',
    summary: "Revoke one of the caller's key pairs.",
    request: z.object({ access_key: z.string().min(1) }),
    response: z.object({ revoked: z.number().int() }),
  }),
  edit_credentials: op({
    endpoint: 'auth.edit_credentials',
    summary: "Change the label of one of the caller's key pairs.",
    request: z.object({ access_key: z.string().min(1), label: z.string().nullish() }),
    response: z.object({ updated: z.number().int() }),
  }),
  validate_token: op({
    endpoint: 'auth.validate_token',
    summary: 'Check a token (used by file servers).',
    request: z.object({ token: z.string().min(1) }),
    response: z.object({ valid: z.boolean(), user: z.string().nullish(), company: z.string().nullish(), msg: z.string().nullish() }),
  }),
};

export const login = {
  supported_modes: op({
    endpoint: 'login.supported_modes',
    summary: 'Which login modes the web app may offer. Needs no credentials.',
    auth: 'optional',
    request: z.object({}),
    response: z.object({
      basic: z.object({ enabled: z.boolean(), guest: z.object({ enabled: z.boolean() }) }),
      sso: z.record(z.string(), z.unknown()),
      sso_providers: z.array(z.unknown()),
      server_errors: z.object({ missed_es_upgrade: z.boolean(), es_connection_error: z.boolean() }),
      authenticated: z.boolean(),
    }),
  }),
  logout: op({
    endpoint: 'login.logout',
    minVersion: '2.13',
    summary: 'Revoke the current token and clear the session cookie.',
    request: z.object({}),
    response: z.object({}),
  }),
};
