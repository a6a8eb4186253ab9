/**
 * `cairn models list|show|download|upload|publish|archive|unarchive`: the registry from a shell, over the SDK.
 * The server and credentials come from `clearml.conf` and the `CLEARML_*` environment, as for the SDK; the
 * download cache is the SDK's (`CLEARML_CACHE_DIR`, `sdk.storage.cache.*`).
 */
import { copyFile, cp, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { projects, tasks } from '@cairn/protocol';
import { Model, OutputModel, Session, Task, UsageError, type BaseModel } from '@cairn/sdk';
import { action, formatBytes, formatFields, formatTable, printJson, printText } from '../output.js';
import { transferProgress } from '../progress.js';

/** Models `list` shows unless told otherwise: a screenful or two; `--limit 0` lists every match. */
export const DEFAULT_LIST_LIMIT = 100;
/** Ids per lookup of project and task names (the server's page size). */
const NAME_LOOKUP_PAGE = 500;

interface JsonOption {
  json?: boolean;
}

export function modelsCommand(): Command {
  const models = new Command('models').description('List, inspect, download, upload and publish models (server and credentials from clearml.conf or CLEARML_* variables)');

  models
    .command('list')
    .description('List models, newest first')
    .option('--project <name>', 'only models of this project (exact name)')
    .option('--name <name>', 'only models with this exact name')
    .option('--tag <tag>', 'only models with this tag (repeat: models with all of them)', collect, [] as string[])
    .option('--published', 'only published models')
    .option('--archived', 'include archived models (hidden otherwise)')
    .option('--limit <n>', `show at most n models (default ${DEFAULT_LIST_LIMIT}; 0 = all)`, nonNegativeInt, DEFAULT_LIST_LIMIT)
    .option('--json', 'print JSON')
    .action(action(listModels));

  models.command('show').argument('<id>', 'model id').description('Show every field of a model').option('--json', 'print JSON').action(action(showModel));

  models
    .command('download')
    .argument('<id>', 'model id')
    .description("Download a model's weights (a package extracted), verified against the recorded SHA-256")
    .option('--to <dir>', 'copy the weights into this folder (default: leave them in the cache and print the path)')
    .option('--json', 'print JSON')
    .action(action(downloadModel));

  models
    .command('upload')
    .argument('<file>', 'weights file (a folder is uploaded as a package)')
    .description('Create a task and an output model, upload the weights, and print the URL and SHA-256')
    .requiredOption('--project <name>', 'project (created when missing)')
    .requiredOption('--name <name>', 'model name')
    .option('--task-name <name>', 'name of the task that records the upload (default: "upload <model name>")')
    .option('--tag <tag>', 'model tag (repeatable)', collect, [] as string[])
    .option('--json', 'print JSON')
    .action(action(uploadModel));

  models.command('publish').argument('<id>', 'model id').description('Publish a model (its task is left as it is)').option('--json', 'print JSON').action(action(publishModel));
  models.command('archive').argument('<id>', 'model id').description('Archive a model').option('--json', 'print JSON').action(action((id: string, opts: JsonOption) => setArchived(id, true, opts)));
  models.command('unarchive').argument('<id>', 'model id').description('Restore an archived model').option('--json', 'print JSON').action(action((id: string, opts: JsonOption) => setArchived(id, false, opts)));
  return models;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number, 0 or more');
  return n;
}

/** The one connection of a command, from clearml.conf and the environment. */
function session(): Session {
  return Session.default();
}

// list

interface ListOptions extends JsonOption {
  project?: string;
  name?: string;
  tag: string[];
  published?: boolean;
  archived?: boolean;
  limit: number;
}

async function listModels(opts: ListOptions): Promise<void> {
  const s = session();
  const found = await Model.queryModels({
    session: s,
    projectName: opts.project,
    modelName: opts.name,
    tags: opts.tag.length ? ['__$all', ...opts.tag] : undefined,
    onlyPublished: opts.published,
    includeArchived: opts.archived,
    // One more than asked tells whether there were more.
    maxResults: opts.limit ? opts.limit + 1 : undefined,
  });
  const more = opts.limit > 0 && found.length > opts.limit;
  const shown = more ? found.slice(0, opts.limit) : found;
  const projectNames = await namesOf(s, 'projects', shown.map((m) => m.project));
  if (more) process.stderr.write(`showing the first ${opts.limit} models; --limit raises it\n`);
  if (opts.json) {
    printJson(shown.map((m) => summary(m, projectNames)));
    return;
  }
  if (!shown.length) {
    process.stderr.write('no models match\n');
    return;
  }
  printText(
    formatTable(
      ['ID', 'NAME', 'PROJECT', 'STATUS', 'FRAMEWORK', 'SIZE', 'UPDATED'],
      shown.map((m) => [m.id, m.name, projectNames.get(m.project ?? '') ?? m.project ?? '', status(m), m.framework ?? '', m.weightsSize === undefined ? '' : formatBytes(m.weightsSize), shortDate(m.lastUpdate ?? m.created)]),
    ),
  );
}

// show

async function showModel(id: string, opts: JsonOption): Promise<void> {
  const s = session();
  const model = await Model.get(id, { session: s });
  const [projectNames, taskNames] = await Promise.all([namesOf(s, 'projects', [model.project]), namesOf(s, 'tasks', [model.task])]);
  const metadata = await model.getAllMetadata();
  if (opts.json) {
    printJson({
      ...summary(model, projectNames),
      task: model.task ? { id: model.task, name: taskNames.get(model.task) ?? null } : null,
      system_tags: model.systemTags,
      comment: model.comment,
      labels: model.labels,
      metadata,
      config: model.configText,
    });
    return;
  }
  const ref = (id: string | undefined, names: Map<string, string>) => (id ? (names.has(id) ? `${names.get(id)} (${id})` : id) : '');
  let text = formatFields([
    ['id', model.id],
    ['name', model.name],
    ['project', ref(model.project, projectNames)],
    ['task', ref(model.task, taskNames)],
    ['status', status(model)],
    ['framework', model.framework ?? ''],
    ['tags', model.tags.join(', ')],
    ['system tags', model.systemTags.join(', ')],
    ['created', model.created ?? ''],
    ['last update', model.lastUpdate ?? ''],
    ['url', model.url],
    ['size', model.weightsSize === undefined ? '' : `${model.weightsSize} bytes (${formatBytes(model.weightsSize)})`],
    ['sha256', model.weightsSha256 ?? '(not recorded)'],
    ['comment', model.comment],
  ]);
  const labels = Object.entries(model.labels).sort((a, b) => a[1] - b[1]);
  text += `\nlabels:${labels.length ? '\n' + labels.map(([name, value]) => `  ${value}: ${name}`).join('\n') : ' (none)'}\n`;
  const entries = Object.values(metadata);
  text += `\nmetadata:${entries.length ? '\n' + formatTable(['  KEY', 'TYPE', 'VALUE'], entries.map((e) => [`  ${e.key}`, e.type, e.value])).trimEnd() : ' (none)'}\n`;
  text += `\nconfig:${model.configText ? '\n' + model.configText.replace(/^/gm, '  ') : ' (none)'}\n`;
  printText(text);
}

// download

async function downloadModel(id: string, opts: JsonOption & { to?: string }): Promise<void> {
  const model = await Model.get(id, { session: session() });
  if (!model.url) throw new UsageError(`model ${id} has no weights`);
  const progress = transferProgress(`download ${model.name}`);
  let local: string | null;
  try {
    local = model.isPackage
      ? await model.getWeightsPackage({ returnPath: true, raiseOnError: true, onProgress: progress.listener })
      : await model.getWeights({ raiseOnError: true, onProgress: progress.listener });
  } finally {
    progress.stop();
  }
  if (!local) throw new UsageError(`model ${id}: the weights could not be retrieved from ${model.url}`);
  let target = local;
  if (opts.to) {
    await mkdir(opts.to, { recursive: true });
    if (model.isPackage) {
      target = path.resolve(opts.to);
      await cp(local, target, { recursive: true });
    } else {
      target = path.resolve(opts.to, weightsFileName(model));
      await copyFile(local, target);
    }
  }
  const result = { id: model.id, url: model.url, path: target, package: model.isPackage, size: model.weightsSize ?? null, sha256: model.weightsSha256 ?? null, verified: !!model.weightsSha256 };
  if (opts.json) {
    printJson(result);
    return;
  }
  printText(
    formatFields([
      ['path', target],
      ['url', model.url],
      ['size', model.weightsSize === undefined ? '' : formatBytes(model.weightsSize)],
      ['sha256', model.weightsSha256 ? `${model.weightsSha256} (verified)` : '(not recorded: not verified)'],
    ]),
  );
}

/** The weights' file name from the last segment of their URL, never a path. */
function weightsFileName(model: Model): string {
  let last = model.url.replace(/[?#].*$/, '').replace(/\/+$/, '').split('/').pop() ?? '';
  try {
    last = decodeURIComponent(last);
  } catch {
    // Kept as written.
  }
  const name = path.basename(last.replaceAll('\\', '/'));
  return name && name !== '.' && name !== '..' ? name : `${model.id}.weights`;
}

// upload

interface UploadOptions extends JsonOption {
  project: string;
  name: string;
  taskName?: string;
  tag: string[];
}

async function uploadModel(file: string, opts: UploadOptions): Promise<void> {
  const st = await stat(file).catch(() => undefined);
  if (!st) throw new UsageError(`no such file or folder: ${file}`);
  const task = await Task.init({ projectName: opts.project, taskName: opts.taskName ?? `upload ${opts.name}`, taskType: 'custom', session: session() });
  const model = new OutputModel({ task, name: opts.name, tags: opts.tag });
  const progress = transferProgress(`upload ${path.basename(path.resolve(file))}`);
  try {
    // The user's file stays where it is: the SDK would delete an uploaded file by default.
    await model.updateWeights({ weightsFilename: file, asyncEnable: false, autoDeleteFile: false, onProgress: progress.listener });
  } catch (err) {
    progress.stop();
    // Marks the task failed with the upload's error; the error the user sees is the upload's.
    await task.close().catch(() => undefined);
    throw err;
  }
  progress.stop();
  await task.close();
  const result = { id: model.id, name: model.name, project: { id: model.project, name: opts.project }, task: task.id, url: model.url, sha256: model.weightsSha256 ?? null, size: model.weightsSize ?? null };
  if (opts.json) {
    printJson(result);
    return;
  }
  printText(
    formatFields([
      ['model id', model.id ?? ''],
      ['task id', task.id],
      ['url', model.url],
      ['sha256', model.weightsSha256 ?? ''],
      ['size', model.weightsSize === undefined ? '' : `${model.weightsSize} bytes (${formatBytes(model.weightsSize)})`],
    ]),
  );
}

// publish, archive

async function publishModel(id: string, opts: JsonOption): Promise<void> {
  const s = session();
  const model = await Model.get(id, { session: s });
  const already = model.published;
  await model.publish();
  await report(s, model, opts, already ? 'was already published' : 'published');
}

async function setArchived(id: string, archived: boolean, opts: JsonOption): Promise<void> {
  const s = session();
  const model = await Model.get(id, { session: s });
  const ok = archived ? await model.archive() : await model.unarchive();
  // The SDK warns and resolves false instead of throwing (as ClearML's does); a command must fail.
  if (!ok || model.archived !== archived) throw new UsageError(`model ${id} could not be ${archived ? 'archived' : 'unarchived'}`);
  await report(s, model, opts, archived ? 'archived' : 'unarchived');
}

async function report(s: Session, model: Model, opts: JsonOption, what: string): Promise<void> {
  if (opts.json) {
    printJson(summary(model, await namesOf(s, 'projects', [model.project])));
    return;
  }
  printText(`model ${model.id} (${model.name}) ${what}\n`);
}

// shared

function status(model: BaseModel): string {
  return [model.published ? 'published' : 'draft', ...(model.archived ? ['archived'] : [])].join(', ');
}

function shortDate(iso: string | undefined): string {
  return iso ? iso.slice(0, 19).replace('T', ' ') : '';
}

/** The fields `list` prints and `--json` gives for each model. */
function summary(model: Model, projectNames: Map<string, string>) {
  return {
    id: model.id,
    name: model.name,
    project: model.project ? { id: model.project, name: projectNames.get(model.project) ?? null } : null,
    published: model.published,
    archived: model.archived,
    framework: model.framework ?? null,
    tags: model.tags,
    url: model.url,
    size: model.weightsSize ?? null,
    sha256: model.weightsSha256 ?? null,
    created: model.created ?? null,
    last_update: model.lastUpdate ?? null,
  };
}

/** Names of projects or tasks by id (ids the caller cannot see are left out). */
async function namesOf(s: Session, kind: 'projects' | 'tasks', ids: (string | undefined)[]): Promise<Map<string, string>> {
  const wanted = [...new Set(ids.filter((id): id is string => !!id))];
  const names = new Map<string, string>();
  for (let i = 0; i < wanted.length; i += NAME_LOOKUP_PAGE) {
    const page = wanted.slice(i, i + NAME_LOOKUP_PAGE);
    const query = { id: page, only_fields: ['id', 'name'], page: 0, page_size: page.length };
    const rows = kind === 'projects' ? (await s.client.call(projects.get_all, { ...query, search_hidden: true })).projects : (await s.client.call(tasks.get_all, { ...query, search_hidden: true })).tasks;
    for (const row of rows) names.set(row.id, row.name ?? '');
  }
  return names;
}
