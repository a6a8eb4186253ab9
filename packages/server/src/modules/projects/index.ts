import { createProject } from './create.js';
import { deleteProject } from './delete.js';
import { getAllProjects, getAllProjectsEx, getProjectById } from './get.js';
import { getModelMetadataKeys, getModelMetadataValues, getModelTags } from './model-info.js';
import { updateProject } from './update.js';

export const projectsHandlers = [
  createProject,
  getProjectById,
  getAllProjects,
  getAllProjectsEx,
  updateProject,
  deleteProject,
  getModelTags,
  getModelMetadataKeys,
  getModelMetadataValues,
];
