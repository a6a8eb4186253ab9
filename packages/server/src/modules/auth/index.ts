import { login } from './login.js';
import { authLogout, loginLogout } from './logout.js';
import { createCredentials, editCredentials, getCredentials, revokeCredentials } from './credentials.js';
import { validateToken } from './validate-token.js';
import { supportedModes } from './supported-modes.js';

export const authHandlers = [login, authLogout, loginLogout, createCredentials, getCredentials, revokeCredentials, editCredentials, validateToken, supportedModes];
