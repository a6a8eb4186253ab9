import { Link } from 'react-router-dom';
import { models, tasks, type Model, type Task } from '@cairn/protocol';
import { call } from '../../api/client';
import { formatDate, refField, refId } from '../../lib/format';
import { useQuery } from '../../lib/useApi';
import { ErrorBox, Loading, StatusBadge, TaskStatusBadge } from '../../components/ui';

/** Ancestors followed at most; a longer (or cyclic) parent chain is cut there. */
const MAX_PARENT_CHAIN = 50;
/** Tasks and derived models listed at most on the tab. */
const LIST_LIMIT = 100;

const TASK_FIELDS = ['id', 'name', 'status', 'type', 'project.name', 'user.name', 'last_update'];

async function parentChain(model: Model, signal: AbortSignal): Promise<Model[]> {
  const chain: Model[] = [];
  const seen = new Set([model.id]);
  let next = refId(model.parent);
  while (next && !seen.has(next) && chain.length < MAX_PARENT_CHAIN) {
    seen.add(next);
    const res = await call(models.get_by_id_ex, { id: [next], only_fields: ['id', 'name', 'parent', 'project', 'ready', 'created'] }, { signal });
    const parent = res.models[0];
    if (!parent) break;
    chain.push(parent);
    next = refId(parent.parent);
  }
  return chain;
}

function TaskLink({ task, fallbackProject }: { task: Task; fallbackProject: string }) {
  return <Link to={`/projects/${refId(task.project) ?? fallbackProject}/tasks/${task.id}/general`}>{task.name || task.id}</Link>;
}

/** Where the model comes from (creating task, parent models) and where it is used (tasks that take it as input). */
export function LineageTab({ model, projectId }: { model: Model; projectId: string }) {
  const taskId = refId(model.task);
  const creator = useQuery(
    async (signal) => (taskId ? ((await call(tasks.get_all_ex, { id: [taskId], only_fields: TASK_FIELDS }, { signal })).tasks[0] ?? null) : null),
    [taskId],
  );
  const parents = useQuery((signal) => parentChain(model, signal), [model.id, refId(model.parent)]);
  const children = useQuery(
    async (signal) =>
      (await call(models.get_all_ex, { parent: [model.id], only_fields: ['id', 'name', 'project', 'ready', 'created'], order_by: ['-created'], page_size: LIST_LIMIT }, { signal })).models,
    [model.id],
  );
  const users = useQuery(
    async (signal) =>
      (await call(tasks.get_all_ex, { 'models.input.model': [model.id], only_fields: TASK_FIELDS, order_by: ['-last_update'], page_size: LIST_LIMIT }, { signal })).tasks,
    [model.id],
  );

  return (
    <div className="lineage">
      <section aria-labelledby="lineage-creator">
        <h2 id="lineage-creator">Creating task</h2>
        {!taskId && <p className="empty">This model was not created by a task.</p>}
        {taskId && creator.loading && <Loading />}
        <ErrorBox error={creator.error} onRetry={creator.reload} />
        {taskId && creator.data === null && !creator.loading && <p className="muted">The task {taskId} no longer exists.</p>}
        {creator.data && (
          <p data-lineage="creator">
            <TaskLink task={creator.data} fallbackProject={projectId} /> <TaskStatusBadge status={creator.data.status} />{' '}
            <span className="muted">{creator.data.type}</span>
          </p>
        )}
      </section>

      <section aria-labelledby="lineage-parents">
        <h2 id="lineage-parents">Parent models</h2>
        {parents.loading && <Loading />}
        <ErrorBox error={parents.error} onRetry={parents.reload} />
        {parents.data && !parents.data.length && <p className="empty">No parent model.</p>}
        {parents.data && parents.data.length > 0 && (
          <ol className="chain" data-lineage="parents">
            {parents.data.map((p) => (
              <li key={p.id}>
                <Link to={`/projects/${refId(p.project) ?? '*'}/models/${p.id}/general`}>{p.name || p.id}</Link> <StatusBadge ready={p.ready} />
              </li>
            ))}
          </ol>
        )}
      </section>

      <section aria-labelledby="lineage-children">
        <h2 id="lineage-children">Models derived from this one</h2>
        {children.loading && <Loading />}
        <ErrorBox error={children.error} onRetry={children.reload} />
        {children.data && !children.data.length && <p className="empty">None.</p>}
        {children.data && children.data.length > 0 && (
          <ul data-lineage="children">
            {children.data.map((c) => (
              <li key={c.id}>
                <Link to={`/projects/${refId(c.project) ?? '*'}/models/${c.id}/general`}>{c.name || c.id}</Link> <StatusBadge ready={c.ready} />
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="lineage-users">
        <h2 id="lineage-users">Tasks using this model as input</h2>
        {users.loading && <Loading />}
        <ErrorBox error={users.error} onRetry={users.reload} />
        {users.data && !users.data.length && <p className="empty">No task uses this model.</p>}
        {users.data && users.data.length > 0 && (
          <table className="grid compact" data-lineage="users">
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">Status</th>
                <th scope="col">Project</th>
                <th scope="col">User</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((t) => (
                <tr key={t.id} data-task-id={t.id}>
                  <td>
                    <TaskLink task={t} fallbackProject={projectId} />
                  </td>
                  <td>
                    <TaskStatusBadge status={t.status} />
                  </td>
                  <td>{refField(t.project, 'name')}</td>
                  <td>{refField(t.user, 'name')}</td>
                  <td className="nowrap">{formatDate(t.last_update)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {users.data?.length === LIST_LIMIT && <p className="muted small">Showing the {LIST_LIMIT} most recently updated tasks.</p>}
      </section>
    </div>
  );
}
