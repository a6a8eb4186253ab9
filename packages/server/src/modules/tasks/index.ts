import { createTask } from './create.js';
import { editTask, setRequirements, updateTask } from './edit.js';
import { getAllTasks, getAllTasksEx, getTaskById } from './get.js';
import {
  closeTask,
  completedTask,
  failedTask,
  pingTask,
  publishTaskHandler,
  startedTask,
  stopTaskHandler,
  stoppedTask,
} from './lifecycle.js';
import { resetTaskHandler } from './reset.js';
import { deleteTaskHandler } from './delete.js';
import { addOrUpdateModel, deleteModels } from './task-models.js';
import { deleteConfiguration, editConfiguration, getConfigurationNames, getConfigurations } from './configuration.js';
import { deleteHyperParams, editHyperParams, getHyperParams } from './hyperparams.js';
import { addOrUpdateArtifacts } from './artifacts.js';
import { archiveMany, deleteMany, publishMany, resetMany, stopMany, unarchiveMany } from './batch.js';
import { dequeueHandler, dequeueMany, enqueueHandler, enqueueMany } from './enqueue.js';
import { cloneTask } from './clone.js';

export const tasksHandlers = [
  createTask,
  editTask,
  updateTask,
  setRequirements,
  getTaskById,
  getAllTasks,
  getAllTasksEx,
  startedTask,
  stoppedTask,
  completedTask,
  failedTask,
  closeTask,
  stopTaskHandler,
  pingTask,
  publishTaskHandler,
  resetTaskHandler,
  deleteTaskHandler,
  addOrUpdateModel,
  deleteModels,
  getConfigurations,
  getConfigurationNames,
  editConfiguration,
  deleteConfiguration,
  getHyperParams,
  editHyperParams,
  deleteHyperParams,
  addOrUpdateArtifacts,
  archiveMany,
  unarchiveMany,
  deleteMany,
  resetMany,
  publishMany,
  stopMany,
  enqueueHandler,
  dequeueHandler,
  enqueueMany,
  dequeueMany,
  cloneTask,
];
