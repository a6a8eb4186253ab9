import type { Handler } from '../api/handler.js';
import { authHandlers } from './auth/index.js';
import { usersHandlers } from './users/index.js';
import { serverHandlers } from './server/index.js';

/** Every API handler the server serves, one module per service. */
export const allHandlers: readonly Handler[] = [...authHandlers, ...usersHandlers, ...serverHandlers] as unknown as Handler[];
