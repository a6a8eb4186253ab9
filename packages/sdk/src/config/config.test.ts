import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSdkConfig, deriveFilesHost, deriveWebHost } from './config.js';
import { ConfigError } from '../errors.js';

describe('clearml.conf and environment (sdk-behaviour §8.5)', () => {
  let home: string;
  before(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'cairn-conf-'));
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  const conf = `
api {
  api_server: http://conf-host:8080/api
  web_server: http://conf-host:8080
  files_server: "http://conf-host:8080/files"
  credentials { "access_key" = "CONFKEY", "secret_key" = "CONFSECRET" }
}
sdk.development.default_output_uri = "file:///tmp/out"
`;

  it('reads ~/clearml.conf as HOCON', () => {
    writeFileSync(path.join(home, 'clearml.conf'), conf);
    const c = loadSdkConfig({ env: { HOME: home } });
    assert.equal(c.apiHost, 'http://conf-host:8080/api');
    assert.equal(c.filesHost, 'http://conf-host:8080/files');
    assert.equal(c.webHost, 'http://conf-host:8080');
    assert.equal(c.accessKey, 'CONFKEY');
    assert.equal(c.secretKey, 'CONFSECRET');
    assert.equal(c.defaultOutputUri, 'file:///tmp/out');
    assert.deepEqual(c.configFiles, [path.join(home, 'clearml.conf')]);
    assert.match(c.credentialsSource, /api\.credentials\.access_key in .*clearml\.conf/);
  });

  it('the environment overrides the file, explicit options override both', () => {
    writeFileSync(path.join(home, 'clearml.conf'), conf);
    const env = { HOME: home, CLEARML_API_HOST: 'http://env-host/api', CLEARML_API_ACCESS_KEY: 'ENVKEY', CLEARML_API_SECRET_KEY: 'ENVSECRET', CLEARML_FILES_HOST: 'http://env-files' };
    const fromEnv = loadSdkConfig({ env });
    assert.equal(fromEnv.apiHost, 'http://env-host/api');
    assert.equal(fromEnv.filesHost, 'http://env-files');
    assert.equal(fromEnv.accessKey, 'ENVKEY');
    assert.equal(fromEnv.credentialsSource, 'CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY');
    const explicit = loadSdkConfig({ env, apiHost: 'http://opt/api/', accessKey: 'OPTKEY', secretKey: 'OPTSECRET' });
    assert.equal(explicit.apiHost, 'http://opt/api');
    assert.equal(explicit.accessKey, 'OPTKEY');
  });

  it('CLEARML_CONFIG_FILE names another file', () => {
    const other = path.join(home, 'other.conf');
    writeFileSync(other, 'api { api_server = "http://other/api", credentials { access_key = K, secret_key = S } }');
    const c = loadSdkConfig({ env: { HOME: home, CLEARML_CONFIG_FILE: other } });
    assert.equal(c.apiHost, 'http://other/api');
    assert.equal(c.filesHost, 'http://other/files', 'derived from the one-port layout');
  });

  it('missing credentials: a ConfigError naming every place they are read from', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'cairn-conf-empty-'));
    try {
      assert.throws(
        () => loadSdkConfig({ env: { HOME: empty, CLEARML_API_HOST: 'http://h/api' } }),
        (e: unknown) =>
          e instanceof ConfigError &&
          /CLEARML_API_ACCESS_KEY/.test(e.message) &&
          /accessKey/.test(e.message) &&
          e.message.includes(path.join(empty, 'clearml.conf')) &&
          /not found/.test(e.message),
      );
      assert.throws(() => loadSdkConfig({ env: { HOME: empty } }), (e: unknown) => e instanceof ConfigError && /CLEARML_API_HOST/.test(e.message));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('a broken configuration file is a ConfigError with its line', () => {
    const bad = path.join(home, 'bad.conf');
    writeFileSync(bad, 'api {\n  api_server = {{\n}');
    assert.throws(() => loadSdkConfig({ configFile: bad, env: {} }), (e: unknown) => e instanceof ConfigError && e.message.includes(bad) && /line 2/.test(e.message));
  });

  it('derives web and files hosts as ClearML and Cairn lay them out', () => {
    assert.equal(deriveWebHost('http://h:8080/api'), 'http://h:8080');
    assert.equal(deriveWebHost('https://api.example.com'), 'https://app.example.com');
    assert.equal(deriveWebHost('http://localhost:8008'), 'http://localhost:8080');
    assert.equal(deriveFilesHost('http://h:8080/api', 'http://h:8080'), 'http://h:8080/files');
    assert.equal(deriveFilesHost('http://localhost:8008', 'http://localhost:8080'), 'http://localhost:8081');
    assert.equal(deriveFilesHost('https://api.x.io', 'https://app.x.io'), 'https://files.x.io');
    assert.equal(deriveFilesHost('https://api.x.io', 'https://demoapp.x.io'), 'https://demofiles.x.io');
  });
});
