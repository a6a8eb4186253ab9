/**
 * A worker process of P8: runs several SDK clients side by side against one server. Each client has its own
 * session (its own login and event queue), task and output model, and repeats until the deadline: report a
 * batch of scalars and flush them, then upload a weights file (blocking, verified digest). It answers a
 * `run` request with its counts, failures and per-operation times.
 */
import { OutputModel, Session, Task } from '@cairn/sdk';

interface RunRequest {
  type: 'run';
  id: number;
  apiUrl: string;
  filesUrl: string;
  accessKey: string;
  secretKey: string;
  clients: number;
  firstClient: number;
  durationMs: number;
  file: string;
  sha256: string;
  cacheDir: string;
  scalarsPerRound: number;
}

export interface ClientReport {
  rounds: number;
  scalars: number;
  uploads: number;
  errors: string[];
  flushMs: number[];
  uploadMs: number[];
}

async function client(request: RunRequest, index: number, deadline: number): Promise<ClientReport> {
  const report: ClientReport = { rounds: 0, scalars: 0, uploads: 0, errors: [], flushMs: [], uploadMs: [] };
  try {
    const session = new Session({ apiHost: request.apiUrl, filesHost: request.filesUrl, accessKey: request.accessKey, secretKey: request.secretKey, env: {}, cacheDir: request.cacheDir });
    const task = await Task.init({ projectName: 'Bench Load', taskName: `client-${String(index).padStart(2, '0')}`, session, outputUri: true });
    const model = new OutputModel({ task, name: `client-${String(index).padStart(2, '0')} model` });
    const logger = task.getLogger();
    while (Date.now() < deadline) {
      try {
        for (let i = 0; i < request.scalarsPerRound; i++) {
          const wait = logger.reportScalar('loss', `series-${i % 10}`, Math.random(), report.rounds * request.scalarsPerRound + i);
          if (wait) await wait;
        }
        let t0 = performance.now();
        await task.flush();
        report.flushMs.push(performance.now() - t0);
        report.scalars += request.scalarsPerRound;

        t0 = performance.now();
        await model.updateWeights({ weightsFilename: request.file, asyncEnable: false, autoDeleteFile: false, updateComment: false, iteration: report.rounds });
        report.uploadMs.push(performance.now() - t0);
        if (model.weightsSha256 !== request.sha256) throw new Error(`upload recorded ${model.weightsSha256}, the file is ${request.sha256}`);
        report.uploads += 1;
      } catch (err) {
        report.errors.push(err instanceof Error ? err.message : String(err));
      }
      report.rounds += 1;
    }
    await task.close();
  } catch (err) {
    report.errors.push(err instanceof Error ? err.message : String(err));
  }
  return report;
}

process.on('message', (request: RunRequest | { type: 'stop' }) => {
  if (request.type === 'stop') process.exit(0);
  const deadline = Date.now() + request.durationMs;
  void Promise.all(Array.from({ length: request.clients }, (_, i) => client(request, request.firstClient + i, deadline))).then((reports) => process.send!({ id: request.id, reports }));
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
