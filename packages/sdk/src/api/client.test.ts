import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { op, operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';
import { ApiClient, isRetrySafe, TOKEN_REFRESH_MARGIN_MS } from './client.js';
import { ApiCallError, ConfigError, ConnectionError, ProtocolError, UsageError } from '../errors.js';

/** Counts the requests that go out (per path), then passes them to the real fetch. */
function countingFetch(): { fetch: typeof fetch; count: (pathPart: string) => number } {
  const seen: string[] = [];
  return {
    fetch: (input, init) => {
      seen.push(String(input));
      return fetch(input, init);
    },
    count: (pathPart) => seen.filter((u) => u.includes(pathPart)).length,
  };
}

const instant = async () => undefined;

for (const dialect of testDialects()) {
  describe(`ApiClient against the real server (${dialect})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(() => s.stop());

    const client = (extra: Partial<ConstructorParameters<typeof ApiClient>[0]> = {}) =>
      new ApiClient({ apiHost: s.apiUrl, filesHost: s.filesUrl, accessKey: s.accessKey, secretKey: s.secretKey, sleep: instant, ...extra });

    it('logs in with the key pair once and calls typed endpoints by POST /v2.23/...', async () => {
      const counter = countingFetch();
      const c = client({ fetch: counter.fetch });
      const me = await c.call(operations.users.get_current_user, {});
      assert.equal(me.user.name, 'admin');
      await c.call(operations.users.get_current_user, {});
      assert.equal(counter.count('/auth.login'), 1);
      assert.equal(counter.count('/v2.23/users.get_current_user'), 2);
      const claims = await c.tokenClaims();
      assert.equal(claims.api_version, '2.31');
      const headers = await c.authHeaders();
      assert.match(headers.Authorization, /^Bearer ey/);
    });

    it('refreshes the token within 60 s of its expiry', async () => {
      let now = Date.now();
      const counter = countingFetch();
      const c = client({ fetch: counter.fetch, clock: { now: () => now } });
      await c.call(operations.users.get_current_user, {});
      const exp = (await c.tokenClaims()).exp as number;
      now = exp * 1000 - TOKEN_REFRESH_MARGIN_MS - 1000;
      await c.call(operations.users.get_current_user, {});
      assert.equal(counter.count('/auth.login'), 1, 'still valid for more than 60 s: no new login');
      now = exp * 1000 - TOKEN_REFRESH_MARGIN_MS + 1000;
      await c.call(operations.users.get_current_user, {});
      assert.equal(counter.count('/auth.login'), 2, 'within 60 s of expiry: a new login');
    });

    it('logs in again once after a 401 (revoked token) and succeeds', async () => {
      const counter = countingFetch();
      const c = client({ fetch: counter.fetch });
      await c.call(operations.auth.logout, {});
      const me = await c.call(operations.users.get_current_user, {});
      assert.equal(me.user.name, 'admin');
      assert.equal(counter.count('/auth.login'), 2);
    });

    it('turns a refused call into ApiCallError with endpoint, code, subcode and message', async () => {
      const c = client();
      const nosuch = op({ endpoint: 'nosuch.call', summary: '', request: z.object({}), response: z.object({}) });
      await assert.rejects(c.call(nosuch, {}), (e: unknown) => {
        assert.ok(e instanceof ApiCallError);
        assert.equal(e.endpoint, 'nosuch.call');
        assert.equal(e.code, 404);
        assert.match(e.serverMessage, /Unable to find endpoint/);
        return true;
      });
      await assert.rejects(c.call(operations.auth.revoke_credentials, { access_key: 'NOSUCHKEY' }), (e: unknown) => e instanceof ApiCallError && e.code === 400 && e.subcode === 75);
    });

    it('checks every answer against the protocol', async () => {
      const c = client();
      const strict = op({ endpoint: 'users.get_current_user', summary: '', request: z.object({}), response: z.object({ nonexistent: z.string() }) });
      await assert.rejects(c.call(strict, {}), (e: unknown) => e instanceof ProtocolError && /nonexistent/.test(e.message));
    });

    it('a wrong key pair is a ConfigError naming where the credentials came from', async () => {
      const c = client({ secretKey: 'wrong', credentialsSource: 'CLEARML_API_SECRET_KEY' });
      await assert.rejects(c.call(operations.users.get_current_user, {}), (e: unknown) => e instanceof ConfigError && /401\/22/.test(e.message) && /CLEARML_API_SECRET_KEY/.test(e.message));
    });

    it('retries reads through a failing proxy (502, then the real answer); never repeats a create', async () => {
      let failures = 2;
      const calls: string[] = [];
      const flaky: typeof fetch = async (input, init) => {
        calls.push(String(input));
        if (!String(input).endsWith('/auth.login') && failures > 0) {
          failures--;
          return new Response('<html>bad gateway</html>', { status: 502 });
        }
        return fetch(input, init);
      };
      const c = client({ fetch: flaky });
      const me = await c.call(operations.users.get_current_user, {});
      assert.equal(me.user.name, 'admin');
      assert.equal(calls.filter((u) => u.endsWith('users.get_current_user')).length, 3);

      failures = 1;
      const create = op({ endpoint: 'projects.create', summary: '', request: z.object({ name: z.string() }), response: z.object({ id: z.string() }) });
      await assert.rejects(c.call(create, { name: 'never twice' }), (e: unknown) => e instanceof ConnectionError && /HTTP 502/.test(e.message));
      assert.equal(calls.filter((u) => u.endsWith('projects.create')).length, 1);
    });

    it('gives up on an unreachable server with a ConnectionError after the retries', async () => {
      const counter = countingFetch();
      const c = new ApiClient({ apiHost: 'http://127.0.0.1:9/api', accessKey: 'a', secretKey: 'b', fetch: counter.fetch, sleep: instant });
      await assert.rejects(c.call(operations.users.get_current_user, {}), (e: unknown) => e instanceof ConnectionError && /cannot reach the API server/.test(e.message) && /127\.0\.0\.1:9/.test(e.message));
      assert.equal(counter.count('/auth.login'), 5);
    });

    it('sends json-lines batches only to batch endpoints', async () => {
      const c = client();
      await assert.rejects(c.callBatch(operations.users.get_current_user, [{}]), UsageError);
      const batchOp = Object.values(operations).flatMap((svc) => Object.values(svc as Record<string, { batch: boolean }>)).find((o) => o.batch);
      if (batchOp) await assert.rejects(c.call(batchOp as never, {} as never), UsageError);
    });
  });
}

describe('retry classification', () => {
  it('reads and idempotent writes are retry-safe; creates and deletes are not', () => {
    for (const e of ['models.get_all', 'models.get_by_id', 'tasks.get_all_ex', 'models.edit', 'tasks.add_or_update_model', 'models.add_or_update_metadata', 'auth.login', 'events.scalar_metrics_iter_histogram']) assert.ok(isRetrySafe(e), e);
    for (const e of ['models.create', 'tasks.create', 'projects.create', 'models.delete', 'models.set_ready', 'events.add_batch', 'models.publish_many', 'queues.get_next_task', 'tasks.enqueue', 'tasks.clone']) assert.ok(!isRetrySafe(e), e);
  });
});
