/**
 * Child process of the large-weights test: uploads one big file as a model's weights and downloads it again,
 * sampling its own memory, and prints one JSON line with the numbers. Connection details come from the
 * environment (CLEARML_API_HOST, CLEARML_FILES_HOST, CLEARML_API_ACCESS_KEY, CLEARML_API_SECRET_KEY).
 */
import { writeFileSync } from 'node:fs';
import { Task, OutputModel, Model, Session } from '../src/index.js';

/** How often memory is sampled. */
const SAMPLE_MS = 50;

const file = process.env.BIG_FILE as string;
const session = new Session({ cacheDir: process.env.BIG_CACHE_DIR });
const task = await Task.init({ projectName: 'Big', taskName: 'two gigabytes', session });
const model = new OutputModel({ task });
// Warm up every code path (modules, connections) on a small file first, so the baseline is the steady state.
const small = `${file}.small`;
writeFileSync(small, 'warm-up');
await model.updateWeights({ weightsFilename: small, asyncEnable: false });
await (await Model.get(model.id as string, { session })).getWeights({ raiseOnError: true });

global.gc?.();
const baseline = process.memoryUsage().rss;
let peak = baseline;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, SAMPLE_MS);

const started = Date.now();
const uri = await model.updateWeights({ weightsFilename: file, autoDeleteFile: false });
await OutputModel.waitForUploads();
const uploadSeconds = (Date.now() - started) / 1000;
const uploadPeak = peak;
const again = await Model.get(model.id as string, { session });
const t1 = Date.now();
const local = await again.getWeights({ raiseOnError: true });
const downloadSeconds = (Date.now() - t1) / 1000;
clearInterval(timer);
await task.close();
process.stdout.write(
  JSON.stringify({ uri, recorded: again.url, sha256: again.weightsSha256, size: again.weightsSize, local, baseline, uploadPeak, peak, uploadSeconds, downloadSeconds }) + '\n',
);
