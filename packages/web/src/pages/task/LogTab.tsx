import { useEffect } from 'react';
import { events, type Task } from '@cairn/protocol';
import { call } from '../../api/client';
import { formatDate } from '../../lib/format';
import { useQuery } from '../../lib/useApi';
import { ErrorBox, Loading } from '../../components/ui';

/** The console shows the newest lines, up to this many. */
const LOG_LINES = 1000;
/** How often an open console looks for new lines (an agent sends them every few seconds). */
const LOG_REFRESH_MS = 3000;

/** The task's console: the log lines its run printed, oldest first, refreshed while the tab is open. */
export function LogTab({ task }: { task: Task }) {
  const query = useQuery(
    async (signal) => call(events.get_task_log, { task: task.id, batch_size: LOG_LINES, navigate_earlier: true, order: 'asc' }, { signal }),
    [task.id],
  );
  const { reload } = query;
  useEffect(() => {
    const timer = setInterval(reload, LOG_REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const lines = query.data?.events ?? [];
  return (
    <div className="task-log">
      {!query.data && query.loading && <Loading label="Loading the log…" />}
      <ErrorBox error={query.error} onRetry={query.reload} />
      {query.data && !lines.length && <p className="empty">No log lines yet.</p>}
      {lines.length > 0 && (
        <>
          {query.data && query.data.total > lines.length && (
            <p className="muted small">
              The last {lines.length} of {query.data.total} lines.
            </p>
          )}
          <pre className="log" data-testid="task-log">
            {lines.map((e, i) => (
              <div key={`${String(e.timestamp)}-${i}`} className={`log-line log-${String(e.level ?? 'info')}`}>
                <span className="muted">{formatDate(new Date(Number(e.timestamp)).toISOString())} </span>
                {String(e.msg ?? '')}
              </div>
            ))}
          </pre>
        </>
      )}
    </div>
  );
}
