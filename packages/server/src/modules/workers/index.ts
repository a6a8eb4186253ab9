import { getAllWorkers } from './get-all.js';
import { registerHandler, unregisterHandler } from './register.js';
import { statusReport } from './status-report.js';

export const workersHandlers = [registerHandler, unregisterHandler, statusReport, getAllWorkers];
