import { z } from 'zod';
import { op } from '../operation.js';
import { DateTime, Id, ListQuery, ScrollResult, StringList, UpdateResponse } from '../common.js';

/** A reference field: an id in get_all/get_by_id, an object with joined fields in `get_all_ex`. */
const Ref = z.union([z.string(), z.looseObject({ id: z.string() })]);

/** Task counts of a project and its sub-projects, per status (`include_stats`). */
export const ProjectStatsSection = z.looseObject({
  status_count: z.record(z.string(), z.number().int()),
  total_tasks: z.number().int(),
  total_runtime: z.number(),
  total_models: z.number().int(),
});

/** The project record (clearml-api.md §3.3). Names are full paths (`a/b/c`); `basename` is the last segment. */
export const Project = z.looseObject({
  id: z.string(),
  name: z.string().optional(),
  basename: z.string().optional(),
  company: Ref.nullish(),
  user: Ref.nullish(),
  created: DateTime.nullish(),
  last_update: DateTime.nullish(),
  description: z.string().nullish(),
  tags: StringList.optional(),
  system_tags: StringList.optional(),
  default_output_destination: z.string().nullish(),
  parent: Ref.nullish(),
  path: StringList.nullish(),
  featured: z.number().nullish(),
  logo_url: z.string().nullish(),
  stats: z.object({ active: ProjectStatsSection.optional(), archived: ProjectStatsSection.optional() }).nullish(),
  sub_projects: z.array(z.looseObject({ id: z.string(), name: z.string() })).optional(),
  own_tasks: z.number().int().optional(),
  own_models: z.number().int().optional(),
});
export type Project = z.infer<typeof Project>;

const ProjectsQuery = ListQuery.extend({
  name: z.string().nullish(),
  basename: z.string().nullish(),
  description: z.string().nullish(),
  shallow_search: z.boolean().nullish(),
  search_hidden: z.boolean().nullish(),
  include_subprojects: z.boolean().nullish(),
});
const ProjectsList = z.object({ projects: z.array(Project), ...ScrollResult });

export const projects = {
  create: op({
    endpoint: 'projects.create',
    summary: 'Create a project; `a/b/c` creates the missing parents.',
    request: z.object({
      name: z.string(),
      description: z.string().nullish(),
      tags: StringList.nullish(),
      system_tags: StringList.nullish(),
      default_output_destination: z.string().nullish(),
    }),
    response: z.object({ id: Id }),
  }),
  get_by_id: op({
    endpoint: 'projects.get_by_id',
    summary: 'One project by id.',
    request: z.object({ project: Id }),
    response: z.object({ project: Project }),
  }),
  get_all: op({
    endpoint: 'projects.get_all',
    summary: 'List projects.',
    request: ProjectsQuery,
    response: ProjectsList,
  }),
  get_all_ex: op({
    endpoint: 'projects.get_all_ex',
    summary: 'List projects, with sub-projects and own task/model counts when asked.',
    request: ProjectsQuery.extend({
      include_stats: z.boolean().nullish(),
      stats_for_state: z.string().nullish(),
      check_own_contents: z.boolean().nullish(),
      allow_public: z.boolean().nullish(),
      children_type: z.string().nullish(),
      non_public: z.boolean().nullish(),
      include_dataset_stats: z.boolean().nullish(),
    }),
    response: ProjectsList,
  }),
  update: op({
    endpoint: 'projects.update',
    summary: 'Update a project; a rename may change only the last path segment.',
    request: z.object({
      project: Id,
      name: z.string().nullish(),
      description: z.string().nullish(),
      tags: StringList.nullish(),
      system_tags: StringList.nullish(),
      default_output_destination: z.string().nullish(),
    }),
    response: UpdateResponse,
  }),
  delete: op({
    endpoint: 'projects.delete',
    summary: 'Delete a project (refused while it has children or contents, unless forced).',
    request: z.object({
      project: Id,
      force: z.boolean().nullish(),
      delete_contents: z.boolean().nullish(),
      delete_external_artifacts: z.boolean().nullish(),
    }),
    response: z.object({
      deleted: z.number().int(),
      disassociated_tasks: z.number().int(),
      deleted_models: z.number().int(),
      deleted_tasks: z.number().int(),
      urls: z.object({ model_urls: StringList, event_urls: StringList, artifact_urls: StringList }).optional(),
    }),
  }),
  get_model_tags: op({
    endpoint: 'projects.get_model_tags',
    minVersion: '2.8',
    summary: 'Distinct model tags (and system tags when asked).',
    request: z.object({
      include_system: z.boolean().nullish(),
      projects: StringList.nullish(),
      filter: z.object({ tags: StringList.nullish(), system_tags: StringList.nullish() }).nullish(),
    }),
    response: z.object({ tags: StringList, system_tags: StringList.optional() }),
  }),
  get_model_metadata_keys: op({
    endpoint: 'projects.get_model_metadata_keys',
    minVersion: '2.17',
    summary: 'Distinct metadata keys of the models in a project.',
    request: z.object({
      project: Id,
      include_subprojects: z.boolean().nullish(),
      page: z.number().int().min(0).nullish(),
      page_size: z.number().int().min(1).nullish(),
    }),
    response: z.object({ keys: StringList, remaining: z.number().int(), total: z.number().int() }),
  }),
  get_model_metadata_values: op({
    endpoint: 'projects.get_model_metadata_values',
    minVersion: '2.17',
    summary: 'Distinct values of one metadata key.',
    request: z.object({
      key: z.string().min(1),
      projects: StringList.nullish(),
      allow_public: z.boolean().nullish(),
      include_subprojects: z.boolean().nullish(),
      page: z.number().int().min(0).nullish(),
      page_size: z.number().int().min(1).nullish(),
    }),
    response: z.object({ total: z.number().int(), values: StringList }),
  }),
};
