/**
 * A training script that an agent can run again with other settings. Run locally, it creates a task that records
 * how to run it (command, working directory, dependencies), the parameters, configuration and labels it connects,
 * and an output model built from them. Cloned in the web app, edited and enqueued, it is run by `cairn agent`,
 * and then the same `connect*` calls hand it the edited values: the new model carries them.
 *
 *   cd examples && CLEARML_API_HOST=http://127.0.0.1:8080/api CLEARML_API_ACCESS_KEY=... CLEARML_API_SECRET_KEY=... \
 *     node --import tsx remote-train.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutputModel, Task } from '@cairn/sdk';

const task = await Task.init({ projectName: process.env.EXAMPLE_PROJECT ?? 'Examples', taskName: 'remote-train', outputUri: true });
const params = await task.connect({ epochs: 3, batch_size: 32 });
const config = await task.connectConfiguration({ optimizer: { name: 'sgd', lr: 0.01 }, layers: [64, 10], dropout: 0.25 });
const labels = await task.connectLabelEnumeration({ background: 0, cat: 1, dog: 2 });
const model = new OutputModel({ task, name: 'remote-classifier', configDict: config, labelEnumeration: labels });

// "Training": what a real script would print and report per epoch.
for (let epoch = 1; epoch <= params.epochs; epoch++) {
  console.log(`epoch ${epoch}/${params.epochs}: batch size ${params.batch_size}, ${config.optimizer.name} lr ${config.optimizer.lr}`);
  task.getLogger().reportScalar('loss', 'train', 1 / epoch, epoch);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'cairn-remote-train-'));
try {
  const weights = path.join(dir, 'classifier.bin');
  writeFileSync(weights, Buffer.alloc(64 * 1024, `${task.id}`));
  await model.updateWeights({ weightsFilename: weights, iteration: params.epochs });
  await OutputModel.waitForUploads();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
await task.close();

console.log(`task id: ${task.id}`);
console.log(`remote: ${task.runningRemotely}`);
console.log(`model id: ${model.id}`);
console.log(`url: ${model.url}`);
console.log(`labels: ${JSON.stringify(model.labels)}`);
console.log(`config: ${JSON.stringify(model.configDict)}`);
