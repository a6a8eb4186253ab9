import { login } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';

/** Cairn's web login is user name and password (ClearML's "basic" mode) or a key pair. */
export const supportedModes = defineHandler(login.supported_modes, async (ctx) => ({
  basic: { enabled: true, guest: { enabled: false } },
  sso: {},
  sso_providers: [],
  server_errors: { missed_es_upgrade: false, es_connection_error: false },
  authenticated: ctx.authenticated,
}));
