/**
 * The README's name-mapping tables are a contract: every Python name on ClearML's OutputModel reference page has a
 * row, and every TypeScript name in a row exists in the SDK's exports with the parameters it names. Types are
 * checked with the TypeScript compiler (parameter names and options-object properties), presence at run time
 * with the module itself.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import * as sdk from '../src/index.js';

const SDK_ROOT = path.resolve(import.meta.dirname, '..');

/** Every name on the reference page (properties, methods, constructor and method parameters). */
const REFERENCE_NAMES = [
  'OutputModel',
  'OutputModel(task)',
  'OutputModel(config_text)',
  'OutputModel(config_dict)',
  'OutputModel(label_enumeration)',
  'OutputModel(name)',
  'OutputModel(tags)',
  'OutputModel(comment)',
  'OutputModel(framework)',
  'OutputModel(base_model_id)',
  'comment',
  'config_dict',
  'config_text',
  'framework',
  'id',
  'labels',
  'name',
  'project',
  'published',
  'system_tags',
  'tags',
  'task',
  'upload_storage_uri',
  'url',
  'archive()',
  'connect()',
  'connect(task)',
  'connect(name)',
  'get_all_metadata()',
  'get_all_metadata_casted()',
  'get_metadata()',
  'get_metadata(key)',
  'get_metadata_casted()',
  'get_metadata_casted(key)',
  'get_weights()',
  'get_weights(raise_on_error)',
  'get_weights(force_download)',
  'get_weights(extract_archive)',
  'get_weights_package()',
  'get_weights_package(return_path)',
  'get_weights_package(raise_on_error)',
  'get_weights_package(force_download)',
  'get_weights_package(extract_archive)',
  'publish()',
  'report_confusion_matrix()',
  'report_confusion_matrix(title)',
  'report_confusion_matrix(series)',
  'report_confusion_matrix(matrix)',
  'report_confusion_matrix(iteration)',
  'report_confusion_matrix(xaxis)',
  'report_confusion_matrix(yaxis)',
  'report_confusion_matrix(xlabels)',
  'report_confusion_matrix(ylabels)',
  'report_confusion_matrix(yaxis_reversed)',
  'report_confusion_matrix(comment)',
  'report_confusion_matrix(extra_layout)',
  'report_histogram()',
  'report_histogram(title)',
  'report_histogram(series)',
  'report_histogram(values)',
  'report_histogram(iteration)',
  'report_histogram(labels)',
  'report_histogram(xlabels)',
  'report_histogram(xaxis)',
  'report_histogram(yaxis)',
  'report_histogram(mode)',
  'report_histogram(data_args)',
  'report_histogram(extra_layout)',
  'report_line_plot()',
  'report_line_plot(title)',
  'report_line_plot(series)',
  'report_line_plot(xaxis)',
  'report_line_plot(yaxis)',
  'report_line_plot(mode)',
  'report_line_plot(iteration)',
  'report_line_plot(reverse_xaxis)',
  'report_line_plot(comment)',
  'report_line_plot(extra_layout)',
  'report_matrix()',
  'report_matrix(title)',
  'report_matrix(series)',
  'report_matrix(matrix)',
  'report_matrix(iteration)',
  'report_matrix(xaxis)',
  'report_matrix(yaxis)',
  'report_matrix(xlabels)',
  'report_matrix(ylabels)',
  'report_matrix(yaxis_reversed)',
  'report_matrix(extra_layout)',
  'report_scalar()',
  'report_scalar(title)',
  'report_scalar(series)',
  'report_scalar(value)',
  'report_scalar(iteration)',
  'report_single_value()',
  'report_single_value(name)',
  'report_single_value(value)',
  'report_surface()',
  'report_surface(title)',
  'report_surface(series)',
  'report_surface(matrix)',
  'report_surface(iteration)',
  'report_surface(xaxis)',
  'report_surface(yaxis)',
  'report_surface(zaxis)',
  'report_surface(xlabels)',
  'report_surface(ylabels)',
  'report_surface(camera)',
  'report_surface(comment)',
  'report_surface(extra_layout)',
  'report_table()',
  'report_table(title)',
  'report_table(series)',
  'report_table(iteration)',
  'report_table(table_plot)',
  'report_table(csv)',
  'report_table(url)',
  'report_table(extra_layout)',
  'report_vector()',
  'report_vector(title)',
  'report_vector(series)',
  'report_vector(values)',
  'report_vector(iteration)',
  'report_vector(labels)',
  'report_vector(xlabels)',
  'report_vector(xaxis)',
  'report_vector(yaxis)',
  'report_vector(mode)',
  'report_vector(extra_layout)',
  'set_all_metadata()',
  'set_all_metadata(metadata)',
  'set_all_metadata(replace)',
  'OutputModel.set_default_upload_uri()',
  'OutputModel.set_default_upload_uri(output_uri)',
  'set_metadata()',
  'set_metadata(key)',
  'set_metadata(value)',
  'set_metadata(v_type)',
  'set_upload_destination()',
  'set_upload_destination(uri)',
  'unarchive()',
  'update_design()',
  'update_design(config_text)',
  'update_design(config_dict)',
  'update_labels()',
  'update_labels(labels)',
  'update_weights()',
  'update_weights(weights_filename)',
  'update_weights(upload_uri)',
  'update_weights(target_filename)',
  'update_weights(auto_delete_file)',
  'update_weights(register_uri)',
  'update_weights(iteration)',
  'update_weights(update_comment)',
  'update_weights(is_package)',
  'update_weights(async_enable)',
  'update_weights_package()',
  'update_weights_package(weights_filenames)',
  'update_weights_package(weights_path)',
  'update_weights_package(upload_uri)',
  'update_weights_package(target_filename)',
  'update_weights_package(auto_delete_file)',
  'update_weights_package(iteration)',
  'update_weights_package(async_enable)',
  'OutputModel.wait_for_uploads()',
  'OutputModel.wait_for_uploads(timeout)',
  'OutputModel.wait_for_uploads(max_num_uploads)',
];

interface Row {
  python: string;
  typescript: string;
}

function readRows(): Row[] {
  const text = readFileSync(path.join(SDK_ROOT, 'README.md'), 'utf8');
  const rows: Row[] = [];
  for (const line of text.split('\n')) {
    const m = /^\|\s*(?:`([^`]+)`|\([^)]*\))\s*\|\s*`([^`]+)`\s*\|/.exec(line);
    if (m) rows.push({ python: m[1] ?? '', typescript: m[2] });
  }
  return rows;
}

/** `new C({ p })`, `C`, `C#m`, `C#m()`, `C#m(x)`, `C#m({ p })`, `C.m(...)`. */
const TS_NAME = /^(new )?([A-Z]\w*)(?:([#.])(\w+))?(?:\((.*)\))?$/;

describe('README name mapping', () => {
  const rows = readRows();
  let checker: ts.TypeChecker;
  const exported = new Map<string, ts.Symbol>();

  before(() => {
    const program = ts.createProgram([path.join(SDK_ROOT, 'src/index.ts')], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
    });
    checker = program.getTypeChecker();
    const source = program.getSourceFile(path.join(SDK_ROOT, 'src/index.ts'));
    assert.ok(source);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    assert.ok(moduleSymbol);
    for (const s of checker.getExportsOfModule(moduleSymbol)) exported.set(s.getName(), s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  });

  it('has a row for every name on the reference page', () => {
    const documented = new Set(rows.map((r) => r.python));
    const missing = REFERENCE_NAMES.filter((n) => !documented.has(n));
    assert.deepEqual(missing, []);
    assert.ok(rows.length >= REFERENCE_NAMES.length);
  });

  it('every TypeScript name exists in the SDK’s exports, with the parameters it names', () => {
    const problems: string[] = [];
    for (const { typescript } of rows) {
      const problem = check(typescript);
      if (problem) problems.push(`${typescript}: ${problem}`);
    }
    assert.deepEqual(problems, []);
  });

  function check(name: string): string | undefined {
    const m = TS_NAME.exec(name);
    if (!m) return 'not in the table syntax';
    const [, isNew, className, kind, member, args] = m;
    const runtime = (sdk as Record<string, unknown>)[className] as (new (...a: never[]) => unknown) & Record<string, unknown>;
    if (typeof runtime !== 'function') return `${className} is not exported`;
    const symbol = exported.get(className);
    if (!symbol || !(symbol.flags & ts.SymbolFlags.Class)) return `${className} is not an exported class`;
    const staticType = checker.getTypeOfSymbol(symbol);
    let signatures: readonly ts.Signature[];
    if (isNew) {
      signatures = staticType.getConstructSignatures();
    } else if (member) {
      const owner = kind === '#' ? checker.getDeclaredTypeOfSymbol(symbol) : staticType;
      const prop = checker.getPropertyOfType(owner, member);
      if (!prop) return `${className} has no ${kind === '#' ? 'instance' : 'static'} member ${member}`;
      const present = kind === '#' ? member in runtime.prototype : runtime[member] !== undefined;
      if (!present) return `${member} is declared but missing at run time`;
      signatures = checker.getTypeOfSymbol(prop).getCallSignatures();
    } else {
      return args === undefined ? undefined : 'arguments without a member';
    }
    if (args === undefined) return undefined;
    if (!signatures.length) return 'not callable';
    const arg = args.trim();
    if (arg === '') return undefined;
    const option = /^\{ (\w+) \}$/.exec(arg);
    if (option) {
      const ok = signatures.some((sig) => sig.getParameters().some((p) => hasProperty(checker.getTypeOfSymbol(p), option[1])));
      return ok ? undefined : `no options parameter with a property ${option[1]}`;
    }
    if (!/^\w+$/.test(arg)) return `cannot read the argument ${arg}`;
    return signatures.some((sig) => sig.getParameters().some((p) => p.getName() === arg)) ? undefined : `no parameter named ${arg}`;
  }

  function hasProperty(type: ts.Type, property: string): boolean {
    const target = checker.getNonNullableType(type);
    const parts = target.isUnion() ? target.types : [target];
    return parts.some((t) => !!checker.getPropertyOfType(t, property));
  }
});
