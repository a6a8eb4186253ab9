import { createQueueHandler } from './create.js';
import { deleteQueue } from './delete.js';
import { addTask, getNextTask, removeTask } from './entries.js';
import { getAllQueues, getAllQueuesEx, getDefaultQueue, getNumEntries, getQueueById } from './get.js';

export const queuesHandlers = [getAllQueues, getAllQueuesEx, getQueueById, getDefaultQueue, getNumEntries, createQueueHandler, deleteQueue, addTask, removeTask, getNextTask];
