import { useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { queues, workers, type Queue, type Worker } from '@cairn/protocol';
import { call } from '../api/client';
import { formatDate } from '../lib/format';
import { useAction, useQuery, useTitle } from '../lib/useApi';
import { ErrorBox, Loading } from '../components/ui';

/** The page reloads queues and workers this often: tasks are enqueued, picked up and finished meanwhile. */
const QUEUES_REFRESH_MS = 3000;
/** Waiting tasks listed per queue; the count says how many there are in all. */
const ENTRIES_SHOWN = 10;

const refName = (ref: unknown): { id: string; name?: string | null } | undefined =>
  typeof ref === 'string' ? { id: ref } : typeof ref === 'object' && ref !== null ? (ref as { id: string; name?: string | null }) : undefined;

/** Queues with the tasks waiting in them and the workers serving them; then every live worker and what it runs. */
export function QueuesPage() {
  useTitle('Queues');
  const query = useQuery(async (signal) => {
    const [q, w] = await Promise.all([
      call(queues.get_all_ex, { only_fields: ['id', 'name', 'display_name', 'system_tags', 'entries', 'workers'], order_by: ['name'] }, { signal }),
      call(workers.get_all, {}, { signal }),
    ]);
    return { queues: q.queues, workers: w.workers };
  }, []);
  const { reload } = query;
  useEffect(() => {
    const timer = setInterval(reload, QUEUES_REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  return (
    <section aria-labelledby="page-title" className="queues-page">
      <div className="page-head">
        <h1 id="page-title">Queues</h1>
      </div>
      {!query.data && query.loading && <Loading label="Loading queues…" />}
      <ErrorBox error={query.error} onRetry={query.reload} />
      {query.data && (
        <>
          <QueuesTable list={query.data.queues} />
          <NewQueue onCreated={reload} />
          <h2 id="workers-title">Workers</h2>
          <WorkersTable list={query.data.workers} />
        </>
      )}
    </section>
  );
}

function QueuesTable({ list }: { list: Queue[] }) {
  if (!list.length) return <p className="empty">There are no queues.</p>;
  return (
    <table className="grid queues-table" aria-label="Queues">
      <thead>
        <tr>
          <th scope="col">Queue</th>
          <th scope="col" className="num">
            Waiting
          </th>
          <th scope="col">Next tasks</th>
          <th scope="col">Workers</th>
        </tr>
      </thead>
      <tbody>
        {list.map((q) => {
          const entries = q.entries ?? [];
          return (
            <tr key={q.id} data-queue={q.name}>
              <td data-col="name">
                {q.display_name || q.name} {q.system_tags?.includes('default') && <span className="badge">default</span>}
              </td>
              <td data-col="waiting" className="num">
                {entries.length}
              </td>
              <td data-col="entries">
                {entries.length ? (
                  <ol className="queue-entries">
                    {entries.slice(0, ENTRIES_SHOWN).map((e) => {
                      const task = refName(e.task);
                      return task ? (
                        <li key={task.id}>
                          <Link to={`/projects/*/tasks/${task.id}/general`}>{task.name ?? task.id}</Link> <span className="muted small">{formatDate(e.added)}</span>
                        </li>
                      ) : null;
                    })}
                  </ol>
                ) : (
                  <span className="muted">Empty</span>
                )}
              </td>
              <td data-col="workers">{q.workers?.length ? q.workers.map((w) => w.name).join(', ') : <span className="muted">None</span>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function WorkersTable({ list }: { list: Worker[] }) {
  if (!list.length)
    return (
      <p className="empty">
        No worker is running. Start one with <code>{'cairn agent --queue <name>'}</code>.
      </p>
    );
  return (
    <table className="grid workers-table" aria-labelledby="workers-title">
      <thead>
        <tr>
          <th scope="col">Worker</th>
          <th scope="col">Running</th>
          <th scope="col">Queues</th>
          <th scope="col">User</th>
          <th scope="col">Last seen</th>
        </tr>
      </thead>
      <tbody>
        {list.map((w) => (
          <tr key={`${w.user?.id ?? ''}/${w.id}`} data-worker={w.id}>
            <td className="mono">{w.id}</td>
            <td data-col="task">{w.task ? <Link to={`/projects/${w.project?.id ?? '*'}/tasks/${w.task.id}/general`}>{w.task.name ?? w.task.id}</Link> : <span className="muted">Idle</span>}</td>
            <td>{(w.queues ?? []).map((q) => q.name ?? q.id).join(', ')}</td>
            <td>{w.user?.name}</td>
            <td className="nowrap">{formatDate(w.last_activity_time)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function NewQueue({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await action.run(() => call(queues.create, { name: name.trim() }))) {
      setName('');
      onCreated();
    }
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Create queue">
      <label>
        New queue
        <input value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <button type="submit" disabled={action.busy}>
        Create queue
      </button>
      <ErrorBox error={action.error} />
    </form>
  );
}
