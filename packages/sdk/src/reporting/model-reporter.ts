import { Reporter } from './reporter.js';
import type { EventPipeline } from './pipeline.js';

export interface ModelReporterOptions {
  pipeline: EventPipeline;
  /** The model's id; for a model not on the server yet, the promise that registers it. */
  entityId: () => Promise<string>;
  /** True for model-scoped metrics (`model_event`), as every OutputModel/Model report is. */
  modelEvent: boolean;
}

/**
 * The eleven report methods of a model (sdk-behaviour.md §3.6). Events carry the model id in
 * `task` with `model_event: true`, so they show on the model's Scalars and Plots pages. Reports on a
 * model that is not created yet wait in the queue until `entityId()` resolves.
 */
export class ModelReporter extends Reporter {
  constructor(options: ModelReporterOptions) {
    super(options);
  }
}
