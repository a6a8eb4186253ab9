/**
 * ClearML's result codes and subcodes (clearml-api.md §1.8). The wire carries
 * `meta.result_code` / `meta.result_subcode` / `meta.result_msg`; the HTTP status equals the code.
 * Both the server (to raise) and the SDK (to name what went wrong) use this one table.
 */
export const ERRORS = {
  // 400: bad request
  invalid_id: [400, 10, 'Invalid object id'],
  missing_required_fields: [400, 11, 'Missing required fields'],
  validation_error: [400, 12, 'Validation error'],
  invalid_fields: [400, 14, 'Invalid fields'],
  fields_conflict: [400, 15, 'Fields conflict'],
  fields_value_error: [400, 16, 'Fields value error'],
  batch_contains_no_items: [400, 17, 'Batch request contains no items'],
  invalid_regex_error: [400, 21, 'Malformed regular expression'],
  invalid_access_key: [400, 75, 'Access key not found for user'],
  invalid_task_id: [400, 101, 'Invalid task id'],
  invalid_task_status: [400, 110, 'Invalid task status'],
  failed_changing_task_status: [400, 121, 'Failed changing task status. probably someone changed it before you'],
  missing_task_fields: [400, 122, 'Task is missing expected fields'],
  task_cannot_be_deleted: [400, 123, 'Task cannot be deleted'],
  events_not_added: [400, 131, 'Events not added'],
  invalid_model_id: [400, 201, 'Invalid model id'],
  model_not_ready: [400, 202, 'Model is not ready'],
  model_is_ready: [400, 203, 'Model is ready'],
  invalid_model_uri: [400, 204, 'Invalid model uri'],
  model_in_use: [400, 205, 'Model is used by tasks'],
  model_creating_task_exists: [400, 206, 'Task that created this model exists'],
  invalid_user_id: [400, 301, 'Invalid user id'],
  invalid_project_id: [400, 401, 'Invalid project id'],
  project_has_tasks: [400, 402, 'Project has associated tasks'],
  project_not_found: [400, 403, 'Project not found'],
  project_has_models: [400, 405, 'Project has associated models'],
  invalid_project_name: [400, 407, 'Invalid project name'],
  cannot_update_project_location: [400, 408, 'Cannot update project location. Use projects.move instead'],
  invalid_queue_id: [400, 701, 'Invalid queue id'],
  queue_not_empty: [400, 702, 'Queue is not empty'],
  invalid_queue_or_task_not_queued: [400, 703, 'Invalid queue id or task not in queue'],
  task_already_queued: [400, 706, 'Task already in queue'],
  no_default_queue: [400, 707, 'No queue is tagged as the default queue for this company'],
  multiple_default_queues: [400, 708, 'More than one queue is tagged as the default queue for this company'],
  data_validation_error: [400, 800, 'Data validation error'],
  expected_unique_data: [400, 801, 'Value combination already exists (unique field already contains this value)'],
  invalid_worker_id: [400, 1001, 'Invalid worker id'],
  worker_registration_failed: [400, 1002, 'Worker registration failed'],
  worker_not_registered: [400, 1004, 'Worker is not registered'],
  invalid_scroll_id: [400, 1104, 'Invalid scroll id'],
  // 301: removed for the requested API version
  not_supported: [301, 1, 'this endpoint is no longer supported for the requested API version'],
  // 401: authentication
  not_authorized: [401, 1, 'Unauthorized (not authorized for endpoint)'],
  bad_auth_type: [401, 10, 'Unauthorized (bad authentication header type)'],
  no_credentials: [401, 20, 'Unauthorized (missing credentials)'],
  bad_credentials: [401, 21, 'Unauthorized (malformed credentials)'],
  invalid_credentials: [401, 22, 'Unauthorized (invalid credentials)'],
  invalid_token: [401, 30, 'Invalid token'],
  // 403: authorization
  blocked_internal_endpoint: [403, 12, 'Internal endpoint'],
  role_not_allowed: [403, 20, 'Role not allowed'],
  no_write_permission: [403, 21, 'No write permission'],
  // transport
  endpoint_not_found: [404, 0, 'Unable to find endpoint'],
  request_too_large: [413, 0, 'Request entity too large'],
  bad_request: [400, 0, 'Invalid request'],
  // 500
  general_error: [500, 0, 'General error'],
  internal_error: [500, 1, 'Internal error'],
} as const satisfies Record<string, readonly [number, number, string]>;

export type ErrorName = keyof typeof ERRORS;

/** `"<default message> (<extra>): k1=v1, k2=v2"`, ClearML's message format. */
export function formatErrorMessage(base: string, extra?: string, data?: Record<string, unknown>): string {
  let msg = extra ? `${base} (${extra})` : base;
  const entries = data ? Object.entries(data).filter(([, v]) => v !== undefined) : [];
  if (entries.length) msg += ': ' + entries.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
  return msg;
}

/** Finds the error name for a code/subcode pair, for clients that want to branch on it. */
export function errorNameOf(code: number, subcode: number): ErrorName | undefined {
  for (const [name, [c, s]] of Object.entries(ERRORS)) if (c === code && s === subcode) return name as ErrorName;
  return undefined;
}
