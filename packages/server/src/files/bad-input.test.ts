/**
 * The bad-input corpus (lessons.md §4.2) against every path-bearing route of the file server: GET, HEAD,
 * DELETE, the batch delete, the multipart upload and resumable uploads. Each input is refused (400/404) or
 * stored inside the files root; nothing outside the root is ever read, written or deleted.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startTestServer, testDialects, type TestServer } from '../../test/harness.js';
import { multipartBody, rawRequest } from './test-support.js';

const marker = randomBytes(6).toString('hex');
const escapeTarget = `/tmp/cairn-escape-${marker}`;

/** Request targets after `/files/`, sent byte for byte. None names a stored file. */
const URL_CORPUS: (string | Buffer)[] = [
  '../secret.txt',
  '../../secret.txt',
  `../../../../../../../..${escapeTarget}`,
  '..%2fsecret.txt',
  '%2e%2e%2fsecret.txt',
  '%2e%2e/secret.txt',
  '.%2e/secret.txt',
  '..\\secret.txt',
  '..%5csecret.txt',
  '%252e%252e%252fsecret.txt',
  '..%c0%afsecret.txt',
  '%c0%ae%c0%ae/secret.txt',
  'x/..;/..;/secret.txt',
  'x;/../../secret.txt',
  'x#/../../secret.txt',
  'x?y=../../secret.txt',
  '/etc/passwd',
  '%2fetc%2fpasswd',
  'C:\\Windows\\win.ini',
  'C:%5cWindows%5cwin.ini',
  'file:///etc/passwd',
  'file:%2f%2f%2fetc%2fpasswd',
  'x%00.txt',
  '..%00/secret.txt',
  Buffer.from('x\0.txt'),
  Buffer.from([0x2e, 0x2e, 0xc0, 0xaf, 0x73]),
  '%ef%bc%8e%ef%bc%8e/secret.txt',
  '%e2%80%a5/secret.txt',
  'x'.repeat(256),
  '%2e',
  '..',
  '.',
];

/** Destination paths as a client names them (multipart field name, resumable `path`), never decoded. */
const LITERAL_REFUSED: (string | Buffer)[] = [
  '../secret.txt',
  `../../../../../../../..${escapeTarget}`,
  'a/../../secret.txt',
  '..\\secret.txt',
  'C:\\Windows\\x.ini',
  'x\0.txt',
  Buffer.from([0x2e, 0x2e, 0xc0, 0xaf, 0x73]),
  '．．/secret.txt',
  '\u2025/secret.txt',
  'a／..／b',
  'x'.repeat(256),
  'x;/../../secret.txt',
  'x#/../../secret.txt',
  'line\nbreak.txt',
  '/',
  '.',
];

/** Names that are odd but harmless: stored under the root, at the key given. */
const LITERAL_STORED: [string, string][] = [
  ['/etc/passwd', 'etc/passwd'],
  ['%2e%2e%2fsecret.txt', '%2e%2e%2fsecret.txt'],
  ['%252e%252e%252f', '%252e%252e%252f'],
  ['file:///etc/hosts', 'file:/etc/hosts'],
  ['C:/Windows/x.ini', 'C:/Windows/x.ini'],
  ['x?y=../z', 'x?y=../z'],
  ['./dot/./name', 'dot/name'],
  ['y'.repeat(255), 'y'.repeat(255)],
];

const quoted = (key: string) => key.split('/').map(encodeURIComponent).join('/');

for (const dialect of testDialects()) {
  describe(`file server bad-input corpus (${dialect})`, () => {
    let s: TestServer;
    let root: string;
    let token: string;
    const secret = `SENTINEL-${marker}`;
    let secretFile: string;
    let outsideBefore: string[];
    const passwdMtime = statSync('/etc/passwd').mtimeMs;

    /** Everything under the data folder but the files root, the upload folders and the database. */
    function outside(): string[] {
      const out: string[] = [];
      const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          const full = path.join(dir, entry.name);
          if (full === root || full === path.join(s.dataDir, 'uploads') || /\.(db|sqlite)(-wal|-shm|-journal)?$/.test(entry.name)) continue;
          if (entry.isDirectory()) walk(full);
          else out.push(`${path.relative(s.dataDir, full)} ${statSync(full).size} ${statSync(full).mtimeMs}`);
        }
      };
      walk(s.dataDir);
      return out.sort();
    }

    before(async () => {
      s = await startTestServer({ dialect });
      root = s.server.config.filesRoot;
      token = await s.token();
      secretFile = path.join(s.dataDir, 'secret.txt');
      writeFileSync(secretFile, secret);
      assert.equal((await upload([{ name: '/inside/ok.txt', data: 'ok' }])).status, 200);
      outsideBefore = outside();
    });

    after(async () => {
      assert.equal(readFileSync(secretFile, 'utf8'), secret, 'the file outside the root is untouched');
      assert.deepEqual(outside(), outsideBefore, 'nothing outside the root was created, changed or deleted');
      assert.equal(statSync('/etc/passwd').mtimeMs, passwdMtime);
      assert.ok(!existsSync(escapeTarget), 'nothing escaped to /tmp');
      await s.stop();
    });

    async function upload(parts: { name: string | Buffer; data: string | Buffer }[]) {
      const { body, contentType } = multipartBody(parts);
      return rawRequest(s.url, { method: 'POST', target: '/files', headers: { 'content-type': contentType, authorization: `Bearer ${token}` }, body });
    }

    const show = (v: string | Buffer) => JSON.stringify(typeof v === 'string' ? v.slice(0, 60) : v.toString('latin1'));

    it('GET and HEAD of every corpus path answer 400 or 404 and never a byte from outside', async () => {
      for (const entry of URL_CORPUS) {
        for (const method of ['GET', 'HEAD']) {
          const target = Buffer.concat([Buffer.from('/files/'), Buffer.from(entry)]);
          const res = await rawRequest(s.url, { method, target, headers: { authorization: `Bearer ${token}` } });
          assert.ok([400, 404].includes(res.status), `${method} ${show(entry)} answered ${res.status}`);
          assert.ok(!res.body.includes(secret) && !res.body.includes('root:'), `${method} ${show(entry)} leaked a file`);
        }
      }
    });

    it('DELETE of every corpus path answers 400 or 404 and deletes nothing', async () => {
      for (const entry of URL_CORPUS) {
        const target = Buffer.concat([Buffer.from('/files/'), Buffer.from(entry)]);
        const res = await rawRequest(s.url, { method: 'DELETE', target, headers: { authorization: `Bearer ${token}` } });
        assert.ok([400, 404].includes(res.status), `DELETE ${show(entry)} answered ${res.status}`);
      }
      const whole = await rawRequest(s.url, { method: 'DELETE', target: '/files/', headers: { authorization: `Bearer ${token}` } });
      assert.equal(whole.status, 400, 'the root itself is no file');
      assert.equal(readFileSync(path.join(s.server.config.filesRoot, 'inside/ok.txt'), 'utf8'), 'ok');
    });

    it('the multipart upload refuses every unsafe name with 400 and writes nothing', async () => {
      for (const name of LITERAL_REFUSED) {
        const res = await upload([{ name, data: secret }]);
        assert.equal(res.status, 400, `upload ${show(name)} answered ${res.status}: ${res.body}`);
      }
      const stored = readdirSync(root, { recursive: true }) as string[];
      assert.deepEqual(stored.sort(), ['inside', path.join('inside', 'ok.txt')]);
    });

    it('stores odd but harmless names inside the root, and serves them back by their quoted key', async () => {
      for (const [name, key] of LITERAL_STORED) {
        const res = await upload([{ name, data: `content of ${key}` }]);
        assert.equal(res.status, 200, `upload ${show(name)}: ${res.body}`);
        assert.deepEqual(JSON.parse(res.body.toString()), [key]);
        const onDisk = realpathSync(path.join(root, key));
        assert.ok(onDisk.startsWith(realpathSync(root) + path.sep), `${key} is inside the root`);
        const back = await rawRequest(s.url, { method: 'GET', target: `/files/${quoted(key)}`, headers: { authorization: `Bearer ${token}` } });
        assert.equal(back.status, 200, key);
        assert.equal(back.body.toString(), `content of ${key}`);
      }
      // Decoded once only: the double-encoded form names the literal file, not a parent folder.
      const literal = await rawRequest(s.url, { method: 'GET', target: '/files/%252e%252e%252fsecret.txt', headers: { authorization: `Bearer ${token}` } });
      assert.equal(literal.body.toString(), 'content of %2e%2e%2fsecret.txt');
      assert.notEqual(readFileSync('/etc/passwd', 'utf8'), 'content of etc/passwd');
    });

    it('the batch delete refuses or misses every corpus path and never deletes outside', async () => {
      const files = [...URL_CORPUS.filter((e): e is string => typeof e === 'string'), '../secret.txt', '..', '%2e%2e', '/', '%2f'];
      const res = await rawRequest(s.url, {
        method: 'POST',
        target: '/files/delete_many',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ files }),
      });
      assert.equal(res.status, 200);
      const result = JSON.parse(res.body.toString()) as { deleted: Record<string, string>; errors: Record<string, string[]> };
      // Only keys stored above inside the root are deleted (the double-encoded one names a literal file).
      assert.deepEqual(result.deleted, { '%252e%252e%252fsecret.txt': '%2e%2e%2fsecret.txt', '/etc/passwd': 'etc/passwd' });
      assert.equal(Object.values(result.errors).flat().length, files.length - 2);
      assert.ok(existsSync('/etc/passwd'));
      assert.ok(existsSync(path.join(root, 'inside/ok.txt')));
    });

    it('resumable uploads refuse every unsafe destination and store the harmless ones inside the root', async () => {
      const create = (name: string | Buffer, length = 3) =>
        rawRequest(s.url, {
          method: 'POST',
          target: '/uploads/',
          headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', 'upload-length': String(length), 'upload-metadata': `path ${Buffer.from(name).toString('base64')}` },
        });
      for (const name of LITERAL_REFUSED) {
        const res = await create(name);
        assert.equal(res.status, 400, `resumable ${show(name)} answered ${res.status}`);
      }
      const res = await create('/etc/tus-passwd', 0);
      assert.equal(res.status, 201);
      assert.equal(readFileSync(path.join(root, 'etc/tus-passwd'), 'utf8'), '');
      assert.ok(!existsSync('/etc/tus-passwd'));
      // Upload ids in the URL are checked as well: a traversal there names no upload.
      for (const target of ['/uploads/..%2f..%2fsecret.txt', '/uploads/../secret.txt', '/uploads/%2e%2e']) {
        const head = await rawRequest(s.url, { method: 'HEAD', target, headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' } });
        assert.ok([400, 404].includes(head.status), `${target} answered ${head.status}`);
        const patch = await rawRequest(s.url, {
          method: 'PATCH',
          target,
          headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
          body: 'xyz',
        });
        assert.ok([400, 404].includes(patch.status), `${target} answered ${patch.status}`);
      }
    });
  });
}
