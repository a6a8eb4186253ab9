/**
 * Finds the newest published model of a project, downloads its weights (verified against the SHA-256 recorded when
 * they were uploaded) and prints what a consumer needs: where the file is, its digest, metadata, labels and
 * configuration.
 *
 *   CLEARML_API_HOST=http://127.0.0.1:8080/api CLEARML_API_ACCESS_KEY=... CLEARML_API_SECRET_KEY=... \
 *     node --import tsx examples/consume.ts
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Model } from '@cairn/sdk';

const projectName = process.env.EXAMPLE_PROJECT ?? 'Examples';
const [model] = await Model.queryModels({ projectName, onlyPublished: true, maxResults: 1 });
if (!model) {
  console.error(`no published model in ${projectName}`);
  process.exit(1);
}
const file = await model.getWeights({ raiseOnError: true });
const hash = createHash('sha256');
for await (const chunk of createReadStream(file as string)) hash.update(chunk);

console.log(`model id: ${model.id}`);
console.log(`name: ${model.name}`);
console.log(`file: ${file}`);
console.log(`recorded sha256: ${model.weightsSha256}`);
console.log(`file sha256: ${hash.digest('hex')}`);
console.log(`labels: ${JSON.stringify(model.labels)}`);
console.log(`config: ${JSON.stringify(model.configDict)}`);
console.log(`metadata: ${JSON.stringify(Object.fromEntries(Object.entries(await model.getAllMetadataCasted()).map(([k, e]) => [k, e.value])))}`);
