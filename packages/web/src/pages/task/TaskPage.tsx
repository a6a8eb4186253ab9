import { useEffect, useState, type ReactNode } from 'react';
import { Link, Navigate, NavLink, useParams } from 'react-router-dom';
import { models, queues, tasks, type Task } from '@cairn/protocol';
import { ApiError, call } from '../../api/client';
import { formatDate, refField, refId } from '../../lib/format';
import { useQuery, useTitle } from '../../lib/useApi';
import { ErrorBox, Loading, StatusBadge, Tags, TaskStatusBadge } from '../../components/ui';
import { ScalarsView } from '../../components/ScalarsView';
import { PlotsView } from '../../components/PlotsView';
import { ConfigurationTab } from './ConfigurationTab';
import { HyperparamsTab } from './HyperparamsTab';
import { TaskLabelsTab } from './LabelsTab';
import { LogTab } from './LogTab';
import { TaskActions } from './TaskActions';
import { InputModelDialog } from './InputModelDialog';

const TASK_FIELDS = [
  'id', 'name', 'type', 'status', 'status_message', 'status_reason', 'comment', 'tags', 'system_tags', 'project.name', 'user.name', 'parent.name',
  'created', 'started', 'completed', 'last_update', 'last_iteration', 'models', 'execution.model_labels', 'execution.queue', 'script', 'last_worker',
  'output.error',
];
/** While a task waits in a queue or runs, its page reloads it this often to show its status. */
const ACTIVE_TASK_REFRESH_MS = 2000;
const ACTIVE = new Set(['queued', 'in_progress']);

export const TASK_TABS = [
  { id: 'general', title: 'General' },
  { id: 'models', title: 'Models' },
  { id: 'configuration', title: 'Configuration' },
  { id: 'hyperparams', title: 'Hyperparameters' },
  { id: 'labels', title: 'Labels' },
  { id: 'log', title: 'Log' },
  { id: 'scalars', title: 'Scalars' },
  { id: 'plots', title: 'Plots' },
] as const;

export function TaskPage() {
  const { projectId = '*', taskId = '', tab } = useParams();
  const query = useQuery(async (signal) => {
    const res = await call(tasks.get_all_ex, { id: [taskId], only_fields: TASK_FIELDS }, { signal });
    const task = res.tasks[0];
    if (!task) throw new ApiError('tasks.get_all_ex', 400, 101, `There is no task with the id ${taskId}`);
    return task;
  }, [taskId]);
  useTitle(query.data?.name);
  const active = query.data?.id === taskId && ACTIVE.has(query.data.status ?? '');
  const { reload } = query;
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(reload, ACTIVE_TASK_REFRESH_MS);
    return () => clearInterval(timer);
  }, [active, reload]);
  if (!TASK_TABS.some((t) => t.id === tab)) return <Navigate to={`/projects/${projectId}/tasks/${taskId}/general`} replace />;
  const task = query.data?.id === taskId ? query.data : undefined;
  const base = `/projects/${projectId}/tasks/${taskId}`;
  return (
    <article className="entity-page" aria-labelledby="page-title">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/projects">Projects</Link> / <Link to={`/projects/${projectId}/tasks`}>{(task && refField(task.project, 'name')) ?? 'Tasks'}</Link> / Task
      </nav>
      {!task && query.loading && <Loading label="Loading task…" />}
      <ErrorBox error={query.error} onRetry={query.reload} />
      {task && (
        <>
          <header className="entity-header">
            <div className="entity-title">
              <h1 id="page-title">{task.name}</h1>
              <TaskStatusBadge status={task.status} />
              <span className="muted">{task.type}</span>
            </div>
            <Tags tags={task.tags} />
            <TaskActions task={task} projectId={projectId} reload={query.reload} />
          </header>
          <nav className="tabs entity-tabs" aria-label="Task sections">
            {TASK_TABS.map((t) => (
              <NavLink key={t.id} to={`${base}/${t.id}`} replace>
                {t.title}
              </NavLink>
            ))}
          </nav>
          <section className="tab-panel" aria-label={TASK_TABS.find((t) => t.id === tab)?.title}>
            {tab === 'general' && <TaskGeneral task={task} />}
            {tab === 'models' && <TaskModels task={task} reload={query.reload} />}
            {tab === 'configuration' && <ConfigurationTab task={task} />}
            {tab === 'hyperparams' && <HyperparamsTab task={task} />}
            {tab === 'labels' && <TaskLabelsTab task={task} reload={query.reload} />}
            {tab === 'log' && <LogTab task={task} />}
            {tab === 'scalars' && <ScalarsView entity={task.id} modelEvents={false} />}
            {tab === 'plots' && <PlotsView entity={task.id} modelEvents={false} />}
          </section>
        </>
      )}
    </article>
  );
}

function Field({ name, label, children }: { name: string; label: string; children: ReactNode }) {
  return (
    <div className="field" data-field={name}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function TaskGeneral({ task }: { task: Task }) {
  const projectId = refId(task.project);
  const queueId = task.execution?.queue ?? undefined;
  // The queue's name; a queue deleted since the task was enqueued keeps showing its id.
  const queueName = useQuery(async (signal) => (queueId ? (await call(queues.get_by_id, { queue: queueId }, { signal }).catch(() => undefined))?.queue.name : undefined), [queueId]);
  return (
    <dl className="fields">
      <Field name="id" label="ID">
        <span className="mono">{task.id}</span>
      </Field>
      <Field name="type" label="Type">
        {task.type}
      </Field>
      <Field name="status" label="Status">
        <TaskStatusBadge status={task.status} /> {task.status_reason && <span className="muted">{task.status_reason}</span>}
        {task.status_message && <pre className="status-message">{task.status_message}</pre>}
      </Field>
      {task.output?.error && (
        <Field name="error" label="Error">
          <pre className="status-message">{task.output.error}</pre>
        </Field>
      )}
      <Field name="queue" label="Queue">
        {queueId ? <Link to="/queues">{queueName.data ?? queueId}</Link> : <span className="muted">None</span>}
      </Field>
      <Field name="worker" label="Worker">
        {task.last_worker || <span className="muted">None</span>}
      </Field>
      <Field name="command" label="Command">
        {task.script?.entry_point ? <code>{[task.script.binary || 'node', task.script.entry_point].join(' ')}</code> : <span className="muted">Not recorded</span>}
        {task.script?.working_dir && <span className="muted small"> in {task.script.working_dir}</span>}
      </Field>
      <Field name="project" label="Project">
        {projectId ? <Link to={`/projects/${projectId}/tasks`}>{refField(task.project, 'name') ?? projectId}</Link> : <span className="muted">None</span>}
      </Field>
      <Field name="user" label="User">
        {refField(task.user, 'name')}
      </Field>
      <Field name="created" label="Created">
        {formatDate(task.created)}
      </Field>
      <Field name="started" label="Started">
        {formatDate(task.started) || <span className="muted">Not started</span>}
      </Field>
      <Field name="completed" label="Completed">
        {formatDate(task.completed) || <span className="muted">Not completed</span>}
      </Field>
      <Field name="updated" label="Updated">
        {formatDate(task.last_update)}
      </Field>
      <Field name="iteration" label="Last iteration">
        {task.last_iteration ?? 0}
      </Field>
      <Field name="parent" label="Parent task">
        {refId(task.parent) ? (
          <Link to={`/projects/*/tasks/${refId(task.parent)}/general`}>{refField(task.parent, 'name') ?? refId(task.parent)}</Link>
        ) : (
          <span className="muted">None</span>
        )}
      </Field>
      <Field name="description" label="Description">
        {task.comment || <span className="muted">No description</span>}
      </Field>
    </dl>
  );
}

/** Placeholders the server leaves where a model was deleted by force. */
const DELETED_PREFIX = '__DELETED__';

function TaskModels({ task, reload }: { task: Task; reload: () => void }) {
  const [picking, setPicking] = useState<{ entry?: string } | null>(null);
  const editable = task.status === 'created';
  const input = task.models?.input ?? [];
  const output = task.models?.output ?? [];
  const ids = [...new Set([...input, ...output].map((m) => m.model).filter((id) => id && !id.startsWith(DELETED_PREFIX)))];
  const names = useQuery(
    async (signal) =>
      ids.length ? (await call(models.get_all_ex, { id: ids, only_fields: ['id', 'name', 'project', 'ready'], page_size: ids.length }, { signal })).models : [],
    [ids.join(',')],
  );
  const list = (entries: typeof input, kind: string) => (
    <section aria-labelledby={`models-${kind}`}>
      <h2 id={`models-${kind}`}>{kind === 'input' ? 'Input models' : 'Output models'}</h2>
      {!entries.length && <p className="empty">None.</p>}
      {entries.length > 0 && (
        <table className="grid compact" data-models={kind}>
          <thead>
            <tr>
              <th scope="col">Entry</th>
              <th scope="col">Model</th>
              <th scope="col">Status</th>
              {editable && kind === 'input' && (
                <th scope="col">
                  <span className="visually-hidden">Change</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => {
              const found = names.data?.find((m) => m.id === entry.model);
              return (
                <tr key={`${entry.name}:${entry.model}`}>
                  <td>{entry.name}</td>
                  <td>
                    {entry.model.startsWith(DELETED_PREFIX) ? (
                      <span className="muted">Deleted model</span>
                    ) : (
                      <Link to={`/projects/${refId(found?.project) ?? '*'}/models/${entry.model}/general`}>{found?.name ?? entry.model}</Link>
                    )}
                  </td>
                  <td>{found && <StatusBadge ready={found.ready} />}</td>
                  {editable && kind === 'input' && (
                    <td>
                      <button type="button" aria-label={`Change input model ${entry.name}`} onClick={() => setPicking({ entry: entry.name })}>
                        Change
                      </button>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
  return (
    <div className="task-models">
      <ErrorBox error={names.error} onRetry={names.reload} />
      {list(input, 'input')}
      {editable && (
        <button type="button" onClick={() => setPicking({})}>
          Add input model
        </button>
      )}
      {list(output, 'output')}
      {picking && <InputModelDialog task={task} entry={picking.entry} onClose={() => setPicking(null)} onDone={reload} />}
    </div>
  );
}
