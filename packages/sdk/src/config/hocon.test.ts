import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configDictToText, textToConfigDict, parseHocon, HoconParseError, pythonNumber } from './hocon.js';
import { wrapDesign, unwrapDesign, resolveConfig } from './design.js';
import { UsageError } from '../errors.js';

describe('HOCON: dict → text (sdk-behaviour §2.3, matrix A)', () => {
  it('A1: scalars, nested dict, list, strings, booleans, null, floats', () => {
    assert.equal(
      configDictToText({ a: 1, b: { c: [1, 2, 3], d: 'x y' }, e: true, f: null, g: 1.5 }),
      'a = 1\nb {\n  c = [1, 2, 3]\n  d = "x y"\n}\ne = true\nf = null\ng = 1.5',
    );
  });

  it('A2: dotted keys are quoted, and parse back as one key', () => {
    assert.equal(configDictToText({ 'a.b': 1, c: { 'd.e': 'x' } }), '"a.b" = 1\nc {\n  "d.e" = "x"\n}');
    assert.equal(configDictToText({ 'a.b': 1 }), '"a.b" = 1');
    assert.deepEqual(textToConfigDict('"a.b" = 1'), { 'a.b': 1 });
  });

  it('A3: special characters take the quoted form', () => {
    assert.equal(configDictToText({ k$: 1 }), '"k$" = 1');
    assert.deepEqual(textToConfigDict(configDictToText({ k$: 1, 'x#y': { 'p:q': 2 } })), { k$: 1, 'x#y': { 'p:q': 2 } });
  });

  it('A4: a string is returned unchanged', () => {
    assert.equal(configDictToText('raw text'), 'raw text');
  });

  it('lists of dicts, empty dict, empty list', () => {
    assert.equal(
      configDictToText({ lst: [{ x: 1 }, { y: 'z' }], empty: {}, el: [] }),
      'lst = [{\n    x = 1\n  },\n  {\n    y = "z"\n  }]\nempty {}\nel = []',
    );
  });

  it('strings: always quoted, inner quotes escaped, non-ASCII verbatim, multi-line as """', () => {
    assert.equal(configDictToText({ s: 'say "hi"', u: 'héllo ✓', m: 'a\nb', b: 'back\\slash', t: 'tab\there' }), 's = "say \\"hi\\""\nu = "héllo ✓"\nm = """a\nb"""\nb = "back\\\\slash"\nt = "tab\\there"');
  });

  it('numbers print as Python prints them', () => {
    assert.equal(configDictToText({ a: 0.00001, b: 1e21, c: -3, d: 0.1 + 0.2, e: NaN, f: -Infinity }), 'a = 1e-05\nb = 1e+21\nc = -3\nd = 0.30000000000000004\ne = nan\nf = -inf');
    assert.equal(pythonNumber(1.5e-7), '1.5e-07');
    assert.equal(pythonNumber(123456.789), '123456.789');
    assert.equal(pythonNumber(1e16), '1e+16');
  });

  it('non-string keys print bare, number-like string keys are quoted; both parse back to the string key', () => {
    assert.equal(configDictToText(new Map([[1, 'x']])), '1 = "x"');
    assert.equal(configDictToText({ 1: 'x' }), '"1" = "x"');
    assert.deepEqual(textToConfigDict('1 = "x"'), { 1: 'x' });
    assert.deepEqual(textToConfigDict('"1" = "x"'), { 1: 'x' });
  });

  it('key order is preserved; keys with spaces stay bare', () => {
    assert.equal(configDictToText({ z: 1, a: 2, 'x y': 3 }), 'z = 1\na = 2\nx y = 3');
    assert.deepEqual(Object.keys(textToConfigDict('z = 1\na = 2\nx y = 3') as object), ['z', 'a', 'x y']);
  });

  it('long lists of scalars wrap after 80 characters, as pyhocon does', () => {
    const values = Array.from({ length: 30 }, (_, i) => i * 1000);
    const text = configDictToText({ v: values });
    assert.equal(
      text,
      'v = [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 11000, 12000, 13000,\n' +
        '    14000, 15000, 16000, 17000, 18000, 19000, 20000, 21000, 22000, 23000, 24000, 25000,\n' +
        '    26000, 27000, 28000, 29000]',
    );
    assert.deepEqual(textToConfigDict(text), { v: values });
  });

  it('a mixed list whose first line is long is re-aligned under its key', () => {
    const text = configDictToText({ k: [1, { x: 1 }] });
    assert.equal(text, 'k = [1, {\n    x = 1\n    }]');
    assert.deepEqual(textToConfigDict(text), { k: [1, { x: 1 }] });
  });

  it('A5: anything but a dict or a string is refused with the Python message', () => {
    assert.throws(() => configDictToText([1, 2]), (e: unknown) => e instanceof UsageError && e.message === 'Model configuration only supports dictionary or string objects');
  });

  it('round-trips nested configuration', () => {
    const config = { model: { layers: [64, 32, 10], act: 'relu', drop: 0.25, 'opt.name': 'adam' }, tags: ['a', 'b c'], on: false, none: null };
    assert.deepEqual(textToConfigDict(configDictToText(config)), config);
  });
});

describe('HOCON: text → dict (sdk-behaviour §2.4, matrix A)', () => {
  it('A6: JSON is HOCON', () => {
    assert.deepEqual(textToConfigDict('{"a": 1, "b": [1,2]}'), { a: 1, b: [1, 2] });
    assert.deepEqual(textToConfigDict('{"s": "x\\u00e9\\n", "n": -1.5e3, "t": true, "z": null, "o": {"p": []}}'), { s: 'xé\n', n: -1500, t: true, z: null, o: { p: [] } });
  });

  it('A7: dotted unquoted keys are paths', () => {
    assert.deepEqual(textToConfigDict('a.b.c = 3'), { a: { b: { c: 3 } } });
    assert.deepEqual(textToConfigDict('a.b = 1\na.c = 2'), { a: { b: 1, c: 2 } });
  });

  it('A8: substitutions resolve, forward references too', () => {
    assert.deepEqual(textToConfigDict('x = ${a}\na=1'), { x: 1, a: 1 });
    assert.deepEqual(textToConfigDict('base { lr = 0.1 }\nrun = ${base} { epochs = 3 }'), { base: { lr: 0.1 }, run: { lr: 0.1, epochs: 3 } });
    assert.deepEqual(textToConfigDict('name = world\ngreeting = hello ${name} and "${x}" "!"'), { name: 'world', greeting: 'hello world and ${x} !' });
    assert.deepEqual(textToConfigDict('p = [1]\np = ${p} [2]'), { p: [1, 2] });
    assert.deepEqual(textToConfigDict('a = ${?missing}\nb = 1'), { b: 1 });
    assert.deepEqual(parseHocon('h = ${HOME_X}', { env: { HOME_X: '/h' } }), { h: '/h' });
  });

  it('A9: duplicate keys: last wins; empty and comment-only texts are {}', () => {
    assert.deepEqual(textToConfigDict('a=1\na=2'), { a: 2 });
    assert.deepEqual(textToConfigDict(''), {});
    assert.deepEqual(textToConfigDict('# c'), {});
    assert.deepEqual(textToConfigDict('// c\n\n# d\n'), {});
  });

  it('A10: a syntax error carries char, line and col exactly as ClearML prints them', () => {
    assert.throws(
      () => textToConfigDict('garbage {{{'),
      (e: unknown) => e instanceof UsageError && e.message === 'Could not parse configuration text (at char 9, line:1, col:10):\ngarbage {{{',
    );
    try {
      parseHocon('a = 1\nb = [1, 2\nc = 3');
      assert.fail('must throw');
    } catch (e) {
      assert.ok(e instanceof HoconParseError);
      assert.equal(e.line, 3);
    }
  });

  it('an unresolvable substitution is the position-less error', () => {
    assert.throws(() => textToConfigDict('a = ${nope}', { env: {} }), (e: unknown) => e instanceof UsageError && e.message === 'Could not parse configuration text:\na = ${nope}');
    assert.throws(() => textToConfigDict('a = ${b}\nb = ${a}', { env: {} }), /Could not parse configuration text:/);
  });

  it('non-string input is refused', () => {
    assert.throws(() => textToConfigDict(5), (e: unknown) => e instanceof UsageError && e.message === 'Model configuration parsing only supports string');
  });

  it('separators, comments and unquoted values', () => {
    const text = `
      # training setup
      lr: 0.001 // learning rate
      epochs = 10
      optimizer { name = adam, betas = [0.9, 0.999] }
      url = http://host:8080/x
      path = /data/set one
      flag = TRUE
      "quoted key" = "v"
      list = [
        1
        2,
        "three"
      ]
      multi = """line1
line2"""
      opt += 1
      opt += 2
    `;
    assert.deepEqual(textToConfigDict(text), {
      lr: 0.001,
      epochs: 10,
      optimizer: { name: 'adam', betas: [0.9, 0.999] },
      url: 'http://host:8080/x',
      path: '/data/set one',
      flag: true,
      'quoted key': 'v',
      list: [1, 2, 'three'],
      multi: 'line1\nline2',
      opt: [1, 2],
    });
  });

  it('objects with the same key merge; a scalar then replaces', () => {
    assert.deepEqual(textToConfigDict('a { x = 1 }\na { y = 2 }'), { a: { x: 1, y: 2 } });
    assert.deepEqual(textToConfigDict('a { x = 1 }\na = 5'), { a: 5 });
    assert.deepEqual(textToConfigDict('a = 5\na.b = 1'), { a: { b: 1 } });
  });

  it('a root list and a root object in braces', () => {
    assert.deepEqual(textToConfigDict('[1, 2]'), [1, 2]);
    assert.deepEqual(textToConfigDict('{ a = 1 }\n'), { a: 1 });
  });

  it('numbers must end the value; otherwise the value is text', () => {
    assert.deepEqual(textToConfigDict('a = 10s\nb = 1.2.3\nc = 1 2\nd = 7 # c'), { a: '10s', b: '1.2.3', c: '1 2', d: 7 });
  });
});

describe('design wrapping and config resolution (matrix A11–A14)', () => {
  it('A11: wrapDesign', () => {
    assert.deepEqual(wrapDesign(null), { design: '' });
    assert.deepEqual(wrapDesign('a=1'), { design: 'a=1' });
    assert.deepEqual(wrapDesign({ design: 'x', other: 1 }), { design: 'x', other: 1 });
    assert.throws(() => wrapDesign({ a: 1 } as never), (e: unknown) => e instanceof UsageError && e.message === "design dictionary must have 'design' key in it");
  });

  it('A12: unwrapDesign', () => {
    assert.equal(unwrapDesign({ x: 'abc' }), 'abc');
    assert.equal(unwrapDesign({ design: 'd', x: 'abc' }), 'd');
    assert.equal(unwrapDesign({}), '');
    assert.equal(unwrapDesign(null), '');
    assert.equal(unwrapDesign('t'), 't');
    assert.throws(() => unwrapDesign(5), /design must be a string or a dictionary with at least one value/);
  });

  it('A13: both config forms at once is an error', () => {
    assert.throws(() => resolveConfig('a', { a: 1 }), (e: unknown) => e instanceof UsageError && e.message === 'Only one of (config_text, config_dict) is allowed');
  });

  it('A14: an empty dict counts as absent; a dict becomes HOCON text', () => {
    assert.equal(resolveConfig('t', {}), 't');
    assert.equal(resolveConfig(undefined, { a: 1 }), 'a = 1');
    assert.equal(resolveConfig('', { a: 1 }), 'a = 1');
    assert.equal(resolveConfig(undefined, undefined), undefined);
    assert.throws(() => resolveConfig(undefined, [1, 2]), /Model configuration only supports dictionary or string objects/);
  });
});

describe('the hocon module runs in a browser', () => {
  it('imports no Node module and no package, directly or through its relative imports', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const m of source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
        const spec = m[1];
        assert.ok(spec.startsWith('.'), `${path.basename(file)} imports ${spec}`);
        visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      }
      const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      // Node globals may only be reached through `globalThis` with a fallback, never assumed.
      assert.doesNotMatch(code, /(?<![.\w])(process|Buffer|require)\b(?!\?:)/, `${path.basename(file)} must not need Node globals`);
    };
    visit(path.join(import.meta.dirname, 'hocon.ts'));
    assert.ok(seen.size >= 2);
  });
});
