/**
 * The second half of `Task.importOfflineSession` (sdk-behaviour.md §6.10), once the task exists on the server: every
 * output model is made again through the public API, as the code would have made it online (constructor values,
 * later edits, entry name, upload destination, weights through `updateWeights`, metadata), the reports are sent with
 * the new task and model ids, and the task is marked as it ended.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { IntegrityError, UsageError } from '../errors.js';
import { unwrapDesign } from '../config/design.js';
import { log } from '../log.js';
import { OutputModel, snapshotComment } from '../model/output-model.js';
import type { QueuedEvent } from '../reporting/pipeline.js';
import { hashFile } from '../storage/transfer.js';
import type { Task } from '../task.js';
import { EVENTS_FILE, type OfflineBundle, type OfflineModelState } from './store.js';

export async function replayOfflineSession(task: Task, bundle: OfflineBundle): Promise<void> {
  const { data } = bundle;
  const resolvers = new Map<string, () => Promise<string>>([[data.task.record.id, async () => task.id]]);
  for (const state of data.models) {
    const model = await replayModel(task, bundle, state);
    let id: Promise<string> | undefined;
    // A model only reported on is created by its first report, as online (decision 10).
    resolvers.set(state.id, () => (id ??= model.ensureId()));
  }
  await replayEvents(task, bundle, resolvers);
  const { status, status_reason: reason } = data.task.record;
  if (status === 'completed') await task.markCompleted();
  else if (status === 'failed') await task.markFailed(reason ?? undefined);
  else await task.flush({ waitForUploads: true });
}

async function replayModel(task: Task, bundle: OfflineBundle, state: OfflineModelState): Promise<OutputModel> {
  // Edits made offline after construction. The configuration and labels go in as constructor values: what
  // `updateDesign`/`updateLabels` did to the task then is already in its record.
  const c = state.changes;
  const model = new OutputModel({
    task,
    ...state.init,
    configText: c.design !== undefined ? unwrapDesign(c.design) : state.init.configText,
    labelEnumeration: c.labels && typeof c.labels === 'object' ? (c.labels as Record<string, number>) : state.init.labelEnumeration,
  });
  // On a model not created yet, these only change what it is created with.
  if (typeof c.name === 'string') await model.setName(c.name);
  if (typeof c.comment === 'string') await model.setComment(c.comment);
  if (Array.isArray(c.tags)) await model.setTags(c.tags as string[]);
  if (Array.isArray(c.system_tags)) await model.setSystemTags(c.system_tags as string[]);
  if (typeof c.project === 'string') await model.setProject(c.project);
  if (state.entryName) await model.connect(task, state.entryName);
  if (state.uploadUri) await model.setUploadDestination(state.uploadUri);
  const w = state.weights;
  if (w) {
    let weightsFilename: string | undefined;
    if (w.file) {
      weightsFilename = bundle.resolve(w.file);
      // A damaged bundle must not become a model's weights (decision 11).
      if (w.sha256) {
        const { sha256 } = await hashFile(weightsFilename);
        if (sha256 !== w.sha256) throw new IntegrityError(`file://${weightsFilename}`, w.sha256, sha256, { file: weightsFilename });
      }
    }
    // Blocking, so that a failure fails the import; the comment names the file the code gave, not the bundle's copy.
    await model.updateWeights({
      weightsFilename,
      registerUri: w.registerUri,
      targetFilename: w.targetFilename,
      iteration: w.iteration,
      isPackage: w.isPackage,
      updateComment: false,
      autoDeleteFile: false,
      asyncEnable: false,
    });
    if (w.commentLine) await model.setComment(snapshotComment(w.commentLine, model.comment));
  }
  const metadata = Object.entries(state.metadata);
  if (metadata.length) await model.setAllMetadata(Object.fromEntries(metadata.map(([key, e]) => [key, { value: e.value, type: e.type }])), true);
  return model;
}

/** Sends `events.jsonl` through the task's event pipeline, each event with its entity's new id. */
async function replayEvents(task: Task, bundle: OfflineBundle, resolvers: Map<string, () => Promise<string>>): Promise<void> {
  const file = path.join(bundle.folder, EVENTS_FILE);
  if (!(await stat(file).catch(() => undefined))) return;
  const lines = readline.createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let number = 0;
  let torn: string | undefined;
  for await (const line of lines) {
    number++;
    if (!line.trim()) continue;
    // Only the last line may be cut short (the process stopped while appending): any other is an error.
    if (torn) throw new UsageError(torn);
    let event: QueuedEvent;
    try {
      event = JSON.parse(line) as QueuedEvent;
    } catch {
      torn = `${EVENTS_FILE} line ${number} of the offline session is not JSON`;
      continue;
    }
    const resolve = typeof event.task === 'string' ? resolvers.get(event.task) : undefined;
    if (!resolve) throw new UsageError(`${EVENTS_FILE} line ${number}: a report on ${String(event.task)}, which is neither the task nor one of its models`);
    const pending = task.session.events.enqueue({ ...event, task: await resolve() });
    if (pending) await pending;
  }
  if (torn) log.warn(`${torn}: it was cut short and is left out`);
}
