import { add, addBatch } from './add.js';
import { clearScroll, deleteForModel, deleteForTask } from './delete.js';
import { multiTaskScalarMetricsIterHistogram, scalarMetricsIterHistogram } from './histogram.js';
import { getTaskLog } from './log.js';
import { getMultiTaskMetrics, getScalarMetricsAndVariants, getTaskLatestScalarValues, getTaskMetrics, getTaskSingleValueMetrics } from './metrics.js';
import { getMultiTaskPlots, getTaskPlots, plots } from './plots.js';
import { getTaskEvents, scalarMetricsIterRaw } from './task-events.js';
import { getUniqueMetricVariants } from './unique-metric-variants.js';

export { deleteEntityEvents, deleteEntitiesEvents } from './delete.js';

/** The events service (clearml-api.md §2.5) and the project metric listing built on its summaries. */
export const eventsHandlers = [
  add,
  addBatch,
  getTaskPlots,
  getMultiTaskPlots,
  plots,
  scalarMetricsIterHistogram,
  multiTaskScalarMetricsIterHistogram,
  getScalarMetricsAndVariants,
  getTaskMetrics,
  getMultiTaskMetrics,
  getTaskSingleValueMetrics,
  getTaskEvents,
  scalarMetricsIterRaw,
  getTaskLatestScalarValues,
  getTaskLog,
  deleteForTask,
  deleteForModel,
  clearScroll,
  getUniqueMetricVariants,
];
