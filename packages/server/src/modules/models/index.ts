import { archiveModels, unarchiveModels } from './archive.js';
import { createModel } from './create.js';
import { deleteModelHandler, deleteModels } from './delete.js';
import { editModel, updateModel } from './edit.js';
import { getAllModels, getAllModelsEx, getFrameworks, getModelById, getModelsByIdEx } from './get.js';
import { getModelByTaskId, updateForTask } from './legacy.js';
import { addOrUpdateMetadata, deleteMetadata } from './metadata.js';
import { moveModels } from './move.js';
import { makeModelsPrivate, makeModelsPublic } from './public.js';
import { publishModels, setModelReady } from './publish.js';
import { updateModelTags } from './tags.js';

export const modelsHandlers = [
  createModel,
  editModel,
  updateModel,
  getModelById,
  getModelsByIdEx,
  getAllModels,
  getAllModelsEx,
  getFrameworks,
  setModelReady,
  publishModels,
  archiveModels,
  unarchiveModels,
  deleteModelHandler,
  deleteModels,
  addOrUpdateMetadata,
  deleteMetadata,
  updateModelTags,
  moveModels,
  makeModelsPublic,
  makeModelsPrivate,
  getModelByTaskId,
  updateForTask,
];
