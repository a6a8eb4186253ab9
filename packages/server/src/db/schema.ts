import type { ColumnType, Generated } from 'kysely';

/**
 * Table shapes. JSON columns are `text` on SQLite and `jsonb` on PostgreSQL: written as JSON text,
 * read back through `fromJson`. Booleans are 0/1 integers on both. Dates are fixed-width ISO text.
 */
type Json = ColumnType<unknown, string | null, string | null>;
type Bool = number;

export interface CompaniesTable { id: string; name: string; created: string }

export interface UsersTable {
  id: string;
  company: string;
  name: string;
  given_name: string | null;
  family_name: string | null;
  avatar: string | null;
  email: string | null;
  role: string;
  created: string;
  preferences: Json;
  password_hash: string | null;
}

export interface CredentialsTable {
  access_key: string;
  secret_hash: string;
  user: string;
  company: string;
  label: string | null;
  created: string;
  last_used: string | null;
  last_used_from: string | null;
}

export interface SettingsTable { key: string; value: string }

export interface RevokedSessionsTable { session_id: string; expires: number }

export interface ScrollsTable { id: string; company: string; position: number; expires: number }

export interface ProjectsTable {
  id: string;
  company: string;
  user: string | null;
  name: string;
  basename: string;
  description: string | null;
  tags: Json;
  system_tags: Json;
  default_output_destination: string | null;
  parent: string | null;
  path: Json;
  featured: number;
  logo_url: string | null;
  created: string;
  last_update: string;
  company_origin: string | null;
}

export interface TasksTable {
  id: string;
  company: string;
  user: string | null;
  name: string;
  type: string;
  status: string;
  status_reason: string | null;
  status_message: string | null;
  status_changed: string | null;
  comment: string | null;
  report: string | null;
  created: string;
  started: string | null;
  completed: string | null;
  published: string | null;
  active_duration: number | null;
  last_update: string;
  last_change: string | null;
  last_changed_by: string | null;
  parent: string | null;
  project: string | null;
  tags: Json;
  system_tags: Json;
  models: Json;
  execution: Json;
  configuration: Json;
  hyperparams: Json;
  output: Json;
  script: Json;
  container: Json;
  runtime: Json;
  last_iteration: number;
  last_metrics: Json;
  metric_stats: Json;
  last_worker: string | null;
  last_worker_report: string | null;
  enqueue_status: string | null;
  company_origin: string | null;
}

export interface ModelsTable {
  id: string;
  company: string;
  user: string | null;
  name: string;
  created: string;
  last_update: string;
  last_change: string | null;
  last_changed_by: string | null;
  task: string | null;
  parent: string | null;
  project: string | null;
  comment: string | null;
  tags: Json;
  system_tags: Json;
  framework: string | null;
  design: Json;
  labels: Json;
  uri: string;
  ready: Bool;
  ui_cache: Json;
  metadata: Json;
  last_iteration: number;
  last_metrics: Json;
  unique_metrics: Json;
  company_origin: string | null;
  weights_sha256: string | null;
  weights_size: number | null;
}

export interface QueuesTable {
  id: string;
  company: string;
  user: string | null;
  name: string;
  display_name: string | null;
  created: string;
  last_update: string;
  tags: Json;
  system_tags: Json;
  metadata: Json;
}

export interface QueueEntriesTable {
  seq: Generated<number>;
  company: string;
  queue: string;
  task: string;
  added: string;
}

export interface WorkersTable {
  company: string;
  user: string;
  id: string;
  ip: string | null;
  queues: Json;
  queue: string | null;
  task: string | null;
  project: string | null;
  tags: Json;
  system_tags: Json;
  register_time: string;
  register_timeout: number;
  last_activity_time: string;
  last_report_time: string | null;
  expires: number;
}

export interface Schema {
  companies: CompaniesTable;
  users: UsersTable;
  credentials: CredentialsTable;
  settings: SettingsTable;
  revoked_sessions: RevokedSessionsTable;
  scrolls: ScrollsTable;
  projects: ProjectsTable;
  tasks: TasksTable;
  models: ModelsTable;
  queues: QueuesTable;
  queue_entries: QueueEntriesTable;
  workers: WorkersTable;
}
