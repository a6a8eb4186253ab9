import type { Operation } from './operation.js';
import { auth, login } from './services/auth.js';
import { server } from './services/server.js';
import { users } from './services/users.js';
import { projects } from './services/projects.js';
import { tasks } from './services/tasks.js';
import { models } from './services/models.js';
import { events, projectMetrics } from './services/events.js';
import { queues } from './services/queues.js';
import { workers } from './services/workers.js';

/** Every operation Cairn serves, grouped by service. */
export const operations = { auth, login, server, users, projects, tasks, models, events, projectMetrics, queues, workers } as const;

export const operationsByEndpoint: ReadonlyMap<string, Operation> = new Map(
  Object.values(operations).flatMap((service) => Object.values(service as Record<string, Operation>)).map((o) => [o.endpoint, o]),
);
