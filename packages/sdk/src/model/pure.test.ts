import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { detectFramework, frameworkParents } from './framework.js';
import { castMetadataValue, toMetadataEntry, parseYamlFlowSequence } from './metadata.js';
import { quotePathSegment, limitFolderName, modelsFolder, weightsDestination, stem, exactNamePattern } from './paths.js';
import { UsageError } from '../errors.js';

describe('framework detection (sdk-behaviour §2.6, matrix B)', () => {
  it('B15–B20 and the examples of §2.6', () => {
    const cases: [string | null, string, [string | null, string]][] = [
      [null, 'model.pt', ['PyTorch', '.pt']],
      [null, 'x.pkl', ['ScikitLearn', '.pkl']],
      ['Keras', 'x.pkl', ['Keras', '.pkl']],
      ['Keras', 'm.pkl', ['Keras', '.pkl']],
      ['PyTorch', 'm.pkl', ['PyTorch', 'pkl']],
      [null, 'weights.bin', [null, 'bin']],
      [null, 'noext', [null, '']],
      [null, 'predict_net.pb', ['TensorFlow', '.pb']],
      [null, 'a.tar.gz', ['TensorFlow', '.tar.gz']],
      [null, 'model_package.zip', ['TensorFlow', '.zip']],
      [null, 's3://b/p/file.onnx', ['ONNX', '.onnx']],
      [null, 'x.MODEL', ['MXNet', '.model']],
      [null, '/r.v1/model', [null, 'v1/model']],
      ['XGBoost', 'booster.model', ['XGBoost', '.model']],
      [null, 'net-symbol.json', ['MXNet', '-symbol.json']],
    ];
    for (const [fw, file, expected] of cases) assert.deepEqual(detectFramework(fw, file), expected, `${fw} ${file}`);
  });

  it('framework parents', () => {
    assert.deepEqual(frameworkParents('Keras'), ['tensorflow']);
    assert.deepEqual(frameworkParents('XGBoost'), ['xgboost', 'joblib']);
    assert.deepEqual(frameworkParents('ONNX'), []);
  });
});

describe('metadata casting (sdk-behaviour §3.3, matrix C26–C33)', () => {
  it('C26: int and float', () => {
    assert.equal(castMetadataValue('3', 'int'), 3);
    assert.equal(castMetadataValue('3.5', 'int'), '3.5');
    assert.equal(castMetadataValue('3.5', 'float'), 3.5);
    assert.equal(castMetadataValue(' 5 ', 'int'), 5);
    assert.equal(castMetadataValue('1_000', 'int'), 1000);
    assert.equal(castMetadataValue('1e3', 'float'), 1000);
    assert.ok(Number.isNaN(castMetadataValue('nan', 'float')));
    assert.equal(castMetadataValue('-inf', 'float'), -Infinity);
    assert.equal(castMetadataValue('abc', 'float'), 'abc');
  });

  it('C27: bool', () => {
    assert.equal(castMetadataValue('true', 'bool'), true);
    assert.equal(castMetadataValue(' TRUE ', 'bool'), true);
    assert.equal(castMetadataValue('', 'bool'), false);
    assert.equal(castMetadataValue('False', 'bool'), false);
    assert.equal(castMetadataValue('yes', 'bool'), 'yes');
    assert.equal(castMetadataValue('0', 'bool'), '0');
  });

  it('C28: lists through JSON, then the legacy YAML fallback', () => {
    assert.deepEqual(castMetadataValue('[1, 2]', 'list'), [1, 2]);
    assert.deepEqual(castMetadataValue('1,2', 'list'), [1, 2]);
    assert.deepEqual(castMetadataValue('[a, b]', 'list'), ['a', 'b']);
    assert.deepEqual(castMetadataValue('(1, 2)', 'tuple'), [1, 2]);
    assert.deepEqual(castMetadataValue('3', 'list/int'), [3]);
    assert.deepEqual(castMetadataValue('[yes, 0x10, 1.5, ~, "q"]', 'list'), [true, 16, 1.5, null, 'q']);
  });

  it('C29: dicts through JSON; a Python repr dict stays a string with a warning', () => {
    assert.deepEqual(castMetadataValue('{"a": 1}', 'dict'), { a: 1 });
    const warnings: string[] = [];
    assert.equal(castMetadataValue("{'a': 1}", 'dict', (w) => warnings.push(w)), "{'a': 1}");
    assert.deepEqual(warnings, ["Could not cast `{'a': 1}` to basic type. Returning it as `str`"]);
  });

  it('C30: no type, upper-case types, unknown types', () => {
    assert.equal(castMetadataValue('', null), null);
    assert.equal(castMetadataValue('x', null), 'x');
    assert.equal(castMetadataValue('x', ''), 'x');
    assert.equal(castMetadataValue('5', 'INT'), 5);
    assert.equal(castMetadataValue('x', 'basestring'), 'x');
    assert.equal(castMetadataValue('x', 'None'), 'x');
    // Fixed quirk: Python turns "List" into a list of characters; here it casts like "list".
    assert.deepEqual(castMetadataValue('[1]', 'List'), [1]);
  });

  it('the YAML fallback reader refuses what PyYAML refuses', () => {
    assert.throws(() => parseYamlFlowSequence('[a, 1], [b, 2]'));
    assert.deepEqual(parseYamlFlowSequence("[x: 1, 'it''s']"), [{ x: 1 }, "it's"]);
  });
});

describe('metadata entries to send (decision 9, matrix C21–C23)', () => {
  it('C21: an explicit known type is kept', () => {
    assert.deepEqual(toMetadataEntry('k', 5, 'int'), { key: 'k', value: '5', type: 'int' });
  });

  it('C22: an unknown explicit type is sent as "None"', () => {
    assert.deepEqual(toMetadataEntry('k', 'v', 'float64'), { key: 'k', value: 'v', type: 'None' });
  });

  it('C23 (adjusted by decision 9): without a type, it is inferred from the value', () => {
    assert.deepEqual(toMetadataEntry('k', 'v'), { key: 'k', value: 'v', type: 'str' });
    assert.deepEqual(toMetadataEntry('k', 10), { key: 'k', value: '10', type: 'int' });
    assert.deepEqual(toMetadataEntry('k', 0.93), { key: 'k', value: '0.93', type: 'float' });
    assert.deepEqual(toMetadataEntry('k', true), { key: 'k', value: 'true', type: 'bool' });
    assert.deepEqual(toMetadataEntry('k', [64, 32]), { key: 'k', value: '[64,32]', type: 'list' });
    assert.deepEqual(toMetadataEntry('k', { a: [1] }), { key: 'k', value: '{"a":[1]}', type: 'dict' });
    assert.deepEqual(toMetadataEntry('k', null), { key: 'k', value: '', type: '' });
    assert.throws(() => toMetadataEntry('k', undefined), UsageError);
    assert.throws(() => toMetadataEntry('k', new Map()), UsageError);
  });

  it('every inferred value casts back to the same value with Python rules', () => {
    for (const value of ['text', 'true', 7, -3, 0.5, 1e-7, true, false, [1, 'a', [2]], { a: { b: [1, null] } }, null]) {
      const entry = toMetadataEntry('k', value);
      assert.deepEqual(castMetadataValue(entry.value, entry.type), value, JSON.stringify(value));
    }
  });
});

describe('upload path layout (sdk-behaviour §7.3, matrix L141)', () => {
  it('quotes segments with ClearML safe characters', () => {
    assert.equal(quotePathSegment('a?b'), 'a%3Fb');
    assert.equal(quotePathSegment('x & y'), 'x %26 y');
    assert.equal(quotePathSegment('é'), '%C3%A9');
    assert.equal(quotePathSegment("Proj/sub [v1] (x) $^,.; -_+='"), "Proj/sub [v1] (x) $^,.; -_+='");
  });

  it('truncates long task and project names with their ids', () => {
    const id = 'f'.repeat(32);
    const long = 'n'.repeat(130);
    assert.equal(limitFolderName(long, id, 128, true), `${'n'.repeat(95)}.${id}`);
    assert.equal(limitFolderName('t', id, 128, true), `t.${id}`);
    assert.equal(limitFolderName('Proj', 'p1', 256, false), 'Proj');
    assert.equal(limitFolderName('p'.repeat(300), 'pid', 256, false), `${'p'.repeat(252)}.pid`);
  });

  it('builds the destination of §7.3', () => {
    const parts = { projectName: 'Proj/sub', projectId: 'pid', taskName: 'train v1', taskId: 'abc' };
    assert.equal(modelsFolder(parts), 'Proj/sub/train v1.abc/models');
    assert.equal(weightsDestination('s3://bkt/out/', parts, 'best.pt'), 's3://bkt/out/Proj/sub/train v1.abc/models/best.pt');
    assert.equal(weightsDestination('file:///data', { ...parts, projectName: 'a?b' }, 'w.bin'), 'file:///data/a%3Fb/train v1.abc/models/w.bin');
  });

  it('stems and exact-name patterns', () => {
    assert.equal(stem('/a/best.pt'), 'best');
    assert.equal(stem('s3://b/m.tar.gz'), 'm.tar');
    assert.equal(stem('noext'), 'noext');
    assert.equal(stem('/x/.env'), '.env');
    assert.equal(exactNamePattern('m.v1 (a)+b'), '^m\\.v1 \\(a\\)\\+b$');
    assert.ok(new RegExp(exactNamePattern('a.b[c]*')).test('a.b[c]*'));
    assert.ok(!new RegExp(exactNamePattern('a.b')).test('axb'));
  });
});
