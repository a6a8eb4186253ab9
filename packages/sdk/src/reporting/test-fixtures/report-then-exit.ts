/**
 * Child process for pipeline.test.ts: reports scalars to a model and ends without flushing, so
 * only the pipeline's exit hook can deliver them.
 * Usage: report-then-exit.ts <apiHost> <accessKey> <secretKey> <modelId> <count>
 */
import { ApiClient } from '../../api/client.js';
import { EventPipeline } from '../pipeline.js';
import { ModelReporter } from '../model-reporter.js';

const [apiHost, accessKey, secretKey, model, count] = process.argv.slice(2);
const reporter = new ModelReporter({
  pipeline: new EventPipeline(new ApiClient({ apiHost: apiHost!, accessKey: accessKey!, secretKey: secretKey! })),
  entityId: async () => model!,
  modelEvent: true,
});
for (let i = 0; i < Number(count); i++) reporter.reportScalar('exit', 'flush', i, i);
