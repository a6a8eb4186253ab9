import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { queues, tasks, type Task } from '@cairn/protocol';
import { call } from '../../api/client';
import { refId } from '../../lib/format';
import { useAction, useQuery } from '../../lib/useApi';
import { loadAllProjects } from '../ProjectsPage';
import { ConfirmDialog, Dialog, ErrorBox } from '../../components/ui';

/** Statuses a task can be enqueued from (the server's status machine); a completed task is reset first. */
const ENQUEUABLE = new Set(['created', 'stopped', 'failed']);
/** Statuses an abort applies to: waiting in a queue or running. */
const ABORTABLE = new Set(['queued', 'in_progress']);
/** Statuses a reset makes sense from: the task ran (or stopped) and should become a draft again. */
const RESETTABLE = new Set(['stopped', 'failed', 'completed', 'closed']);

/**
 * What can be done with a task for remote execution: clone it into an editable draft, enqueue it for an agent,
 * take it out of its queue, abort it (an agent stops it), reset it to a draft.
 */
export function TaskActions({ task, projectId, reload }: { task: Task; projectId: string; reload: () => void }) {
  const [dialog, setDialog] = useState<'clone' | 'enqueue' | 'abort' | 'reset' | null>(null);
  const action = useAction();
  const status = task.status ?? '';
  const run = async (fn: () => Promise<unknown>) => {
    if (await action.run(fn)) {
      setDialog(null);
      reload();
    }
  };
  return (
    <div className="task-actions">
      <div className="actions" role="group" aria-label="Task actions">
        <button type="button" onClick={() => setDialog('clone')}>
          Clone
        </button>
        {ENQUEUABLE.has(status) && (
          <button type="button" className="primary" onClick={() => setDialog('enqueue')}>
            Enqueue
          </button>
        )}
        {status === 'queued' && (
          <button type="button" onClick={() => void run(() => call(tasks.dequeue, { task: task.id }))}>
            Dequeue
          </button>
        )}
        {ABORTABLE.has(status) && task.status_message !== 'stopping' && (
          <button type="button" className="danger" onClick={() => setDialog('abort')}>
            Abort
          </button>
        )}
        {RESETTABLE.has(status) && (
          <button type="button" onClick={() => setDialog('reset')}>
            Reset
          </button>
        )}
      </div>
      {!dialog && <ErrorBox error={action.error} />}
      {dialog === 'clone' && <CloneDialog task={task} projectId={projectId} onClose={() => setDialog(null)} />}
      {dialog === 'enqueue' && <EnqueueDialog task={task} onClose={() => setDialog(null)} onDone={reload} />}
      <ConfirmDialog
        title="Abort task"
        open={dialog === 'abort'}
        danger
        busy={action.busy}
        error={action.error}
        confirmLabel="Abort"
        message={<p>{status === 'queued' ? 'Take the task out of its queue and mark it stopped?' : 'Ask the agent running the task to stop it?'}</p>}
        onConfirm={() => void run(() => call(tasks.stop, { task: task.id, status_reason: 'aborted in the web app' }))}
        onClose={() => setDialog(null)}
      />
      <ConfirmDialog
        title="Reset task"
        open={dialog === 'reset'}
        danger
        busy={action.busy}
        error={action.error}
        confirmLabel="Reset"
        message={<p>Make the task a draft again? Its output models (unless published), metrics and log are deleted.</p>}
        onConfirm={() => void run(() => call(tasks.reset, { task: task.id }))}
        onClose={() => setDialog(null)}
      />
    </div>
  );
}

/** A new draft from the task: its name and project can be changed here, the rest on the draft's tabs. */
function CloneDialog({ task, projectId, onClose }: { task: Task; projectId: string; onClose: () => void }) {
  const navigate = useNavigate();
  const projects = useQuery((signal) => loadAllProjects(signal), []);
  const [name, setName] = useState(`Clone of ${task.name ?? task.id}`);
  const [project, setProject] = useState(refId(task.project) ?? '');
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await action.run(async () => {
      const res = await call(tasks.clone, { task: task.id, new_task_name: name.trim(), ...(project ? { new_task_project: project } : {}) });
      onClose();
      navigate(`/projects/${project || projectId}/tasks/${res.id}/general`);
    });
  };
  return (
    <Dialog title="Clone task" open onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required minLength={3} autoFocus />
        </label>
        <label>
          Project
          <select value={project} onChange={(e) => setProject(e.target.value)}>
            <option value="">{projects.loading ? 'Loading projects…' : 'No project'}</option>
            {projects.data?.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <p className="muted small">The clone is a draft: its configuration, hyperparameters, labels and input models can be edited before it is enqueued.</p>
        <ErrorBox error={projects.error ?? action.error} />
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={action.busy}>
            Clone
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Picks a queue (the default queue first) and enqueues the task there for an agent to run. */
function EnqueueDialog({ task, onClose, onDone }: { task: Task; onClose: () => void; onDone: () => void }) {
  const list = useQuery(async (signal) => (await call(queues.get_all, { only_fields: ['id', 'name', 'system_tags'], order_by: ['name'] }, { signal })).queues, []);
  const [choice, setChoice] = useState('');
  const action = useAction();
  const fallback = list.data?.find((q) => q.system_tags?.includes('default'))?.id ?? list.data?.[0]?.id ?? '';
  const queue = choice || fallback;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await action.run(() => call(tasks.enqueue, { task: task.id, queue, status_reason: 'enqueued in the web app' }))) {
      onClose();
      onDone();
    }
  };
  return (
    <Dialog title="Enqueue task" open onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <label>
          Queue
          <select value={queue} onChange={(e) => setChoice(e.target.value)} required autoFocus>
            {list.loading && <option value="">Loading queues…</option>}
            {list.data?.map((q) => (
              <option key={q.id} value={q.id}>
                {q.name}
              </option>
            ))}
          </select>
        </label>
        {list.data && !list.data.length && <p className="muted">There are no queues.</p>}
        <ErrorBox error={list.error ?? action.error} />
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={action.busy || !queue}>
            Enqueue
          </button>
        </div>
      </form>
    </Dialog>
  );
}
