import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../../test/harness.js';

const basic = (key: string, secret: string) => `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;

for (const dialect of testDialects()) {
  describe(`auth (${dialect})`, () => {
    let s: TestServer;
    let now = Date.now();
    before(async () => {
      s = await startTestServer({ dialect, clock: { now: () => now } });
    });
    after(() => s.stop());

    it('logs in with the admin key pair; the token carries the claims the Python SDK reads', async () => {
      const res = await s.call<{ token: string }>('auth.login', {}, { version: '', token: null, headers: { authorization: basic(s.accessKey, s.secretKey) } });
      assert.equal(res.status, 200);
      const [header, payload] = res.data.token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
      assert.equal(header.alg, 'HS256');
      assert.equal(payload.api_version, '2.31');
      assert.equal(payload.server_version, '1.17.0');
      assert.equal(payload.feature_set, 'basic');
      assert.equal(payload.identity.role, 'admin');
      assert.equal(payload.identity.user_name, 'admin');
      assert.match(payload.session_id, /^[0-9a-f]{32}$/);
      assert.equal(payload.exp - payload.iat, 2_592_000);
      const cookie = res.headers.get('set-cookie') ?? '';
      assert.match(cookie, /^clearml_token_basic=/);
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Lax/);
      assert.match(cookie, /Max-Age=99999999999/);
    });

    it('refuses missing, malformed, wrong and unknown credentials with the right subcodes', async () => {
      const none = await s.call('auth.login', {}, { token: null });
      assert.deepEqual([none.status, none.meta.result_subcode], [401, 20]);
      const malformed = await s.call('auth.login', {}, { token: null, headers: { authorization: 'Basic !!!notbase64' } });
      assert.deepEqual([malformed.status, malformed.meta.result_subcode], [401, 21]);
      const noColon = await s.call('auth.login', {}, { token: null, headers: { authorization: `Basic ${Buffer.from('abc').toString('base64')}` } });
      assert.deepEqual([noColon.status, noColon.meta.result_subcode], [401, 21]);
      const wrongSecret = await s.call('auth.login', {}, { token: null, headers: { authorization: basic(s.accessKey, 'wrong') } });
      assert.deepEqual([wrongSecret.status, wrongSecret.meta.result_subcode], [401, 22]);
      assert.match(wrongSecret.meta.result_msg, /Unauthorized \(invalid credentials\)/);
      const unknownKey = await s.call('auth.login', {}, { token: null, headers: { authorization: basic('NOSUCHKEY', 'x') } });
      assert.deepEqual([unknownKey.status, unknownKey.meta.result_subcode], [401, 22]);
      const badType = await s.call('users.get_current_user', {}, { token: null, headers: { authorization: 'Digest abc' } });
      assert.deepEqual([badType.status, badType.meta.result_subcode], [401, 10]);
      const forged = await s.call('users.get_current_user', {}, { token: 'eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.c2lnbmF0dXJl' });
      assert.deepEqual([forged.status, forged.meta.result_subcode], [401, 30]);
    });

    it('needs credentials on every endpoint but login.supported_modes and server.info', async () => {
      for (const endpoint of ['users.get_current_user', 'auth.get_credentials', 'users.get_all_ex', 'server.report_stats_option']) {
        const res = await s.call(endpoint, {}, { token: null });
        assert.equal(res.status, 401, endpoint);
        assert.equal(res.meta.result_subcode, 20, endpoint);
      }
      const modes = await s.call('login.supported_modes', {}, { token: null });
      assert.equal(modes.status, 200);
      operations.login.supported_modes.response.parse(modes.data);
      assert.equal((modes.data as { authenticated: boolean }).authenticated, false);
    });

    it('refuses an expired token with 401/30', async () => {
      const res = await s.call<{ token: string }>('auth.login', { expiration_sec: 60 });
      const short = res.data.token;
      assert.equal((await s.call('users.get_current_user', {}, { token: short })).status, 200);
      now += 61_000;
      try {
        const expired = await s.call('users.get_current_user', {}, { token: short });
        assert.deepEqual([expired.status, expired.meta.result_subcode], [401, 30]);
      } finally {
        now -= 61_000;
      }
    });

    it('logs in the web user with name and password; the cookie authenticates JSON requests only', async () => {
      const res = await s.call('auth.login', {}, { token: null, headers: { authorization: basic('admin', s.password) } });
      assert.equal(res.status, 200);
      const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
      const viaCookie = await s.call('users.get_current_user', {}, { token: null, headers: { cookie } });
      assert.equal(viaCookie.status, 200);
      const viaLink = await fetch(`${s.apiUrl}/users.get_current_user`, { headers: { cookie } });
      assert.equal(viaLink.status, 401, 'a cookie without a JSON content type (a cross-site link) is refused');
      const badPassword = await s.call('auth.login', {}, { token: null, headers: { authorization: basic('admin', 'guess') } });
      assert.equal(badPassword.status, 401);
    });

    it('logout revokes the token and clears the cookie', async () => {
      const { token } = (await s.call<{ token: string }>('auth.login', {})).data;
      const out = await s.call('auth.logout', {}, { token });
      assert.equal(out.status, 200);
      assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
      const after = await s.call('users.get_current_user', {}, { token });
      assert.deepEqual([after.status, after.meta.result_subcode], [401, 30]);
      const { token: t2 } = (await s.call<{ token: string }>('auth.login', {})).data;
      assert.equal((await s.call('login.logout', {}, { token: t2 })).status, 200);
      assert.equal((await s.call('users.get_current_user', {}, { token: t2 })).status, 401);
    });

    it('creates, lists, relabels and revokes key pairs; secrets are stored hashed', async () => {
      const created = await s.ok(operations.auth.create_credentials, { label: 'ci' });
      const { access_key, secret_key } = created.credentials;
      assert.match(access_key, /^[A-Z0-9]{30}$/);
      assert.ok(secret_key.length >= 60 && !/^[-_]/.test(secret_key));
      const row = await s.server.services.db.kysely.selectFrom('credentials').selectAll().where('access_key', '=', access_key).executeTakeFirstOrThrow();
      assert.notEqual(row.secret_hash, secret_key);
      assert.match(row.secret_hash, /^scrypt\$/);
      const login = await s.call('auth.login', {}, { token: null, headers: { authorization: basic(access_key, secret_key) } });
      assert.equal(login.status, 200);
      const list = await s.ok(operations.auth.get_credentials, {});
      const listed = list.credentials.find((c) => c.access_key === access_key);
      assert.equal(listed?.label, 'ci');
      assert.ok(listed?.last_used, 'last_used is recorded');
      assert.ok(!JSON.stringify(list).includes(secret_key));
      assert.deepEqual(await s.ok(operations.auth.edit_credentials, { access_key, label: 'renamed' }), { updated: 1 });
      assert.deepEqual(await s.ok(operations.auth.revoke_credentials, { access_key }), { revoked: 1 });
      const revokedLogin = await s.call('auth.login', {}, { token: null, headers: { authorization: basic(access_key, secret_key) } });
      assert.equal(revokedLogin.status, 401);
      const again = await s.fails(operations.auth.revoke_credentials, { access_key });
      assert.deepEqual([again.result_code, again.result_subcode], [400, 75]);
    });

    it('validates tokens for file servers', async () => {
      const good = await s.ok(operations.auth.validate_token, { token: await s.token() });
      assert.equal(good.valid, true);
      const bad = await s.ok(operations.auth.validate_token, { token: 'nope' });
      assert.equal(bad.valid, false);
    });

    it('serves the current user, the user list and preferences', async () => {
      const me = await s.ok(operations.users.get_current_user, {});
      assert.equal(me.user.name, 'admin');
      assert.equal(me.user.role, 'admin');
      const all = await s.ok(operations.users.get_all_ex, {});
      assert.ok(all.users.some((u) => u.id === me.user.id));
      const filtered = await s.ok(operations.users.get_all, { name: '^adm' });
      assert.equal(filtered.users.length, 1);
      await s.ok(operations.users.set_preferences, { preferences: { models: { cols: ['a'] }, theme: 'dark' } });
      await s.ok(operations.users.set_preferences, { preferences: { models: { sort: 'name' } } });
      const prefs = await s.ok(operations.users.get_preferences, {});
      assert.deepEqual(prefs.preferences, { models: { cols: ['a'], sort: 'name' }, theme: 'dark' });
      const stats = await s.ok(operations.server.report_stats_option, {});
      assert.equal(stats.supported, false);
    });

    it('wrote the first-start credentials file with mode 0600 and no secret in plain text in the database', async () => {
      const file = path.join(s.dataDir, 'credentials.json');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(path.join(s.dataDir, 'cairn.sqlite'), { throwIfNoEntry: false }) !== undefined || dialect === 'postgres', true);
      const stored = JSON.parse(readFileSync(file, 'utf8'));
      assert.equal(stored.access_key, s.accessKey);
      const users = await s.server.services.db.kysely.selectFrom('users').selectAll().execute();
      assert.ok(users.every((u) => u.password_hash?.startsWith('scrypt$')));
    });
  });
}
