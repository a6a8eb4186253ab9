/**
 * Helpers for the tasks tests: fixtures made through the API, and a call context for exercising the
 * status functions other modules import, in process against the test server's own services.
 */
import { operations, type Identity, type RequestOf } from '@cairn/protocol';
import type { TestServer } from '../../../test/harness.js';
import { compareVersions, type CallContext } from '../../api/context.js';

const T = operations.tasks;

/** The identity inside a login token (the server signed it; the test only reads it). */
export function identityOf(token: string): Identity {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).identity as Identity;
}

/** A context as the transport builds it, for the token's user, at API 2.23. */
export async function callContext(s: TestServer, token?: string): Promise<CallContext> {
  const identity = identityOf(token ?? (await s.token()));
  const { services, app } = s.server;
  return {
    endpoint: 'tasks.test',
    requestedVersion: '2.23',
    identity,
    authenticated: true,
    authSource: 'bearer',
    token: undefined,
    rawToken: token,
    company: identity.company,
    user: identity.user,
    worker: undefined,
    remoteAddress: '127.0.0.1',
    db: services.db,
    services,
    log: app.log,
    versionAtLeast: (v) => compareVersions('2.23', v) >= 0,
    setCookie: () => {},
  };
}

export async function newTask(s: TestServer, fields: Partial<RequestOf<typeof T.create>> = {}, token?: string): Promise<string> {
  const { id } = await s.ok(T.create, { name: 'a task', type: 'training', ...fields }, token ? { token } : undefined);
  return id;
}

export async function newProject(s: TestServer, name: string, token?: string): Promise<string> {
  const { id } = await s.ok(operations.projects.create, { name }, token ? { token } : undefined);
  return id;
}

export async function newModel(s: TestServer, fields: Partial<RequestOf<typeof operations.models.create>> = {}, token?: string): Promise<string> {
  const { id } = await s.ok(operations.models.create, { name: 'a model', uri: 'http://files/a.bin', ready: false, ...fields }, token ? { token } : undefined);
  return id;
}

/** Reads a task straight from its row, for fields the API does not return (e.g. `enqueue_status`). */
export async function taskRow(s: TestServer, id: string) {
  return s.server.services.db.kysely.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}
