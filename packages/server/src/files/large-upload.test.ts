/**
 * A 1 GiB upload and download through the file server with flat memory. The client runs in a child
 * process, so the RSS sampled here is the server's alone: it generates the body on the fly, as ClearML's
 * one-part multipart POST, and hashes what it reads back.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { startTestServer, type TestServer } from '../../test/harness.js';

const CHUNK = 64 * 1024;
const SIZE = 1024 * 1024 * 1024;
/** The server streams: its memory may grow by buffers, never by the file. */
const MAX_RSS_GROWTH = 100 * 1024 * 1024;

/**
 * The client, as a script for a child process: `up <url> <token> <name> <size>` (multipart POST),
 * `patch <url> <token> - <size>` (one resumable PATCH from offset 0) or `down <url> <token>`.
 */
const CLIENT = `
const http = require('node:http');
const { createHash, randomBytes } = require('node:crypto');
const [mode, url, token, name, size] = process.argv.slice(1);
const hash = createHash('sha256');
const done = (status, bytes) => process.stdout.write(JSON.stringify({ status, bytes, sha256: hash.digest('hex') }));
if (mode === 'up' || mode === 'patch') {
  const total = Number(size);
  const boundary = randomBytes(12).toString('hex');
  const multipart = mode === 'up';
  const head = multipart ? Buffer.from('--' + boundary + '\\r\\nContent-Disposition: form-data; name="' + name + '"; filename="' + name + '"\\r\\nContent-Type: application/octet-stream\\r\\n\\r\\n') : Buffer.alloc(0);
  const tail = multipart ? Buffer.from('\\r\\n--' + boundary + '--\\r\\n') : Buffer.alloc(0);
  const headers = multipart
    ? { 'content-type': 'multipart/form-data; boundary=' + boundary }
    : { 'content-type': 'application/offset+octet-stream', 'tus-resumable': '1.0.0', 'upload-offset': '0' };
  const req = http.request(url, { method: multipart ? 'POST' : 'PATCH', headers: { authorization: 'Bearer ' + token, ...headers, 'content-length': String(head.length + total + tail.length) } });
  req.on('response', (res) => { res.resume(); res.on('end', () => done(res.statusCode, total)); });
  req.write(head);
  const base = randomBytes(${CHUNK});
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      const chunk = Buffer.from(base);
      chunk.writeUInt32BE(sent / ${CHUNK}, 0);
      hash.update(chunk);
      sent += chunk.length;
      if (!req.write(chunk)) return req.once('drain', pump);
    }
    req.end(tail);
  };
  pump();
} else {
  http.get(url, { headers: { authorization: 'Bearer ' + token } }, (res) => {
    let bytes = 0;
    res.on('data', (c) => { bytes += c.length; hash.update(c); });
    res.on('end', () => done(res.statusCode, bytes));
  });
}
`;

function runClient(args: string[]): Promise<{ status: number; bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', CLIENT, ...args], { maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`client failed: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

/** Samples this process's RSS while `work` runs; returns the highest growth over the start. */
async function rssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  try {
    const result = await work();
    return { result, growth: Math.max(peak, process.memoryUsage.rss()) - baseline };
  } finally {
    clearInterval(timer);
  }
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

describe('file server with a 1 GiB file', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.stop());

  it('takes it as one multipart POST and sends it back, with flat server memory', { timeout: 300_000 }, async () => {
    const token = await s.token();
    const name = '/Large Project/task.0001/models/big weights.bin';
    const stored = path.join(s.server.config.filesRoot, name);

    const up = await rssGrowth(() => runClient(['up', s.filesUrl, token, name, String(SIZE)]));
    assert.equal(up.result.status, 200);
    assert.equal(await sha256Of(stored), up.result.sha256, 'the stored file is the one sent');
    assert.ok(up.growth < MAX_RSS_GROWTH, `server RSS grew by ${Math.round(up.growth / 1e6)} MB during the upload`);

    const down = await rssGrowth(() => runClient(['down', `${s.filesUrl}/Large%20Project/task.0001/models/big%20weights.bin`, token]));
    assert.equal(down.result.status, 200);
    assert.equal(down.result.bytes, SIZE);
    assert.equal(down.result.sha256, up.result.sha256, 'the file read back is the one sent');
    assert.ok(down.growth < MAX_RSS_GROWTH, `server RSS grew by ${Math.round(down.growth / 1e6)} MB during the download`);

    const last = await fetch(`${s.filesUrl}/Large%20Project/task.0001/models/big%20weights.bin`, {
      headers: { authorization: `Bearer ${token}`, range: `bytes=${SIZE - CHUNK}-${SIZE - CHUNK + 3}` },
    });
    assert.equal(last.status, 206);
    assert.equal(Buffer.from(await last.arrayBuffer()).readUInt32BE(0), SIZE / CHUNK - 1, 'the last chunk is in its place');
    const removed = await fetch(`${s.filesUrl}/Large%20Project/task.0001/models/big%20weights.bin`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(removed.status, 200);
  });

  it('takes it as one resumable PATCH, with flat server memory, and shows it once complete', { timeout: 300_000 }, async () => {
    const token = await s.token();
    const created = await fetch(`${s.url}/uploads/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', 'upload-length': String(SIZE), 'upload-metadata': `path ${Buffer.from('Large Project/resumable.bin').toString('base64')}` },
    });
    assert.equal(created.status, 201);
    const url = new URL(created.headers.get('location')!, s.url).href;
    const up = await rssGrowth(() => runClient(['patch', url, token, '-', String(SIZE)]));
    assert.equal(up.result.status, 204);
    assert.ok(up.growth < MAX_RSS_GROWTH, `server RSS grew by ${Math.round(up.growth / 1e6)} MB during the upload`);
    assert.equal(await sha256Of(path.join(s.server.config.filesRoot, 'Large Project/resumable.bin')), up.result.sha256);
  });
});
