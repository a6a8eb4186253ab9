import type { Handler } from '../api/handler.js';
import { authHandlers } from './auth/index.js';
import { usersHandlers } from './users/index.js';
import { serverHandlers } from './server/index.js';
import { tasksHandlers } from './tasks/index.js';
import { eventsHandlers } from './events/index.js';
import { projectsHandlers } from './projects/index.js';
import { modelsHandlers } from './models/index.js';
import { queuesHandlers } from './queues/index.js';
import { workersHandlers } from './workers/index.js';

/** Every API handler the server serves, one module per service. */
export const allHandlers: readonly Handler[] = [...authHandlers, ...usersHandlers, ...serverHandlers, ...tasksHandlers, ...eventsHandlers, ...projectsHandlers, ...modelsHandlers, ...queuesHandlers, ...workersHandlers] as unknown as Handler[];
