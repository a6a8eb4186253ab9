/**
 * Trains nothing, but does everything a training script does with its model: creates a task, an output model with
 * a configuration, labels and metadata, reports a few metrics, uploads the weights, publishes the model, and prints
 * where it went.
 *
 *   CLEARML_API_HOST=http://127.0.0.1:8080/api CLEARML_API_ACCESS_KEY=... CLEARML_API_SECRET_KEY=... \
 *     node --import tsx examples/train.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Task, OutputModel, Framework } from '@cairn/sdk';

const projectName = process.env.EXAMPLE_PROJECT ?? 'Examples';
const task = await Task.init({ projectName, taskName: 'train-example', outputUri: true });

const model = new OutputModel({
  task,
  name: 'example-classifier',
  configDict: { optimizer: { name: 'adam', lr: 0.001 }, layers: [64, 32, 10], dropout: 0.25 },
  labelEnumeration: { background: 0, cat: 1, dog: 2 },
  tags: ['example'],
  framework: Framework.pytorch,
});

// "Training": a few epochs of made-up metrics on the model's own Scalars page.
for (let epoch = 1; epoch <= 5; epoch++) model.reportScalar('loss', 'train', 1 / epoch, epoch);
model.reportSingleValue('accuracy', 0.93);

await model.setMetadata('accuracy', 0.93);
await model.setMetadata('epochs', 5);
await model.setMetadata('arch', 'resnet18');
await model.setMetadata('augment', true);

// The weights: one deterministic megabyte, so a reader can check what it gets.
const dir = mkdtempSync(path.join(os.tmpdir(), 'cairn-example-'));
const weights = path.join(dir, 'classifier.pt');
writeFileSync(weights, Buffer.alloc(1024 * 1024, 'cairn'));
const uri = await model.updateWeights({ weightsFilename: weights, iteration: 5 });
await OutputModel.waitForUploads();
await model.publish();
await task.close();
rmSync(dir, { recursive: true, force: true });

console.log(`model id: ${model.id}`);
console.log(`url: ${model.url}`);
console.log(`announced: ${uri}`);
console.log(`sha256: ${model.weightsSha256}`);
console.log(`size: ${model.weightsSize}`);
console.log(`published: ${model.published}`);
console.log(`metadata: ${JSON.stringify(Object.fromEntries(Object.entries(await model.getAllMetadataCasted()).map(([k, e]) => [k, e.value])))}`);
