import { useEffect, useId, useState, type FormEvent } from 'react';
import { tasks, type Task } from '@cairn/protocol';
import { call } from '../../api/client';
import { useAction, useQuery } from '../../lib/useApi';
import { ConfirmDialog, ErrorBox, Loading } from '../../components/ui';

/** The item that holds the model configuration (ClearML's `General`), which output models of the task take. */
const MODEL_CONFIG_ITEM = 'General';

interface Item {
  name: string;
  value: string;
  type: string;
  description: string;
}

/** Configuration items (name → text); editable while the task is `created`, as the server allows. */
export function ConfigurationTab({ task }: { task: Task }) {
  const editable = task.status === 'created';
  const query = useQuery(async (signal) => {
    const res = await call(tasks.get_configurations, { tasks: [task.id] }, { signal });
    return (res.configurations.find((c) => c.task === task.id)?.configuration ?? [])
      .map((c) => ({ name: c.name ?? '', value: c.value ?? '', type: c.type ?? '', description: c.description ?? '' }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }, [task.id]);
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<string | null>(null);
  const del = useAction();

  const save = async (item: Item) => {
    await call(tasks.edit_configuration, { task: task.id, configuration: [item] });
    query.reload();
  };

  return (
    <div className="configuration">
      {!editable && <p className="muted">Only tasks in the "created" state can be edited.</p>}
      {query.loading && !query.data && <Loading />}
      <ErrorBox error={query.error} onRetry={query.reload} />
      {query.data && !query.data.length && !adding && <p className="empty">No configuration.</p>}
      {query.data?.map((item) => (
        <ConfigItem key={item.name} item={item} editable={editable} onSave={save} onDelete={() => setDeleting(item.name)} />
      ))}
      {editable && adding && <NewConfigItem existing={query.data?.map((i) => i.name) ?? []} onSave={async (item) => (await save(item), setAdding(false))} onCancel={() => setAdding(false)} />}
      {editable && !adding && (
        <button type="button" onClick={() => setAdding(true)}>
          Add configuration item
        </button>
      )}
      <ConfirmDialog
        title="Delete configuration item"
        open={deleting !== null}
        danger
        busy={del.busy}
        error={del.error}
        confirmLabel="Delete"
        message={
          <p>
            Delete the configuration item <strong>{deleting}</strong>?
          </p>
        }
        onConfirm={async () => {
          if (deleting === null) return;
          if (await del.run(() => call(tasks.delete_configuration, { task: task.id, configuration: [deleting] }))) {
            setDeleting(null);
            query.reload();
          }
        }}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}

function ConfigItem({ item, editable, onSave, onDelete }: { item: Item; editable: boolean; onSave: (item: Item) => Promise<void>; onDelete: () => void }) {
  const [text, setText] = useState(item.value);
  const action = useAction();
  useEffect(() => setText(item.value), [item.value]);
  const id = useId();
  return (
    <section className="config-item" data-config={item.name} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>
        {item.name} {item.type && <span className="muted small">{item.type}</span>}
        {item.name === MODEL_CONFIG_ITEM && <span className="muted small"> (model configuration)</span>}
      </h2>
      {item.description && <p className="muted">{item.description}</p>}
      {editable ? (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(() => onSave({ ...item, value: text }));
          }}
        >
          <label className="visually-hidden" htmlFor={id}>
            Value of {item.name}
          </label>
          <textarea id={id} className="code" rows={Math.min(20, Math.max(4, text.split('\n').length + 1))} value={text} spellCheck={false} onChange={(e) => setText(e.target.value)} />
          <ErrorBox error={action.error} />
          <div className="form-actions">
            <button type="submit" className="primary" disabled={action.busy || text === item.value}>
              Save {item.name}
            </button>
            <button type="button" className="danger" onClick={onDelete}>
              Delete
            </button>
          </div>
        </form>
      ) : (
        <pre className="code">{item.value}</pre>
      )}
    </section>
  );
}

function NewConfigItem({ existing, onSave, onCancel }: { existing: string[]; onSave: (item: Item) => Promise<void>; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const action = useAction();
  const [problem, setProblem] = useState<string>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const n = name.trim();
    const issue = !n ? 'The name must not be empty.' : existing.includes(n) ? `"${n}" exists already.` : undefined;
    setProblem(issue);
    if (!issue) await action.run(() => onSave({ name: n, value, type: '', description: '' }));
  };
  return (
    <form className="form config-item" onSubmit={submit}>
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
      </label>
      <label>
        Value
        <textarea className="code" rows={6} value={value} onChange={(e) => setValue(e.target.value)} />
      </label>
      <ErrorBox error={problem ?? action.error} />
      <div className="form-actions">
        <button type="submit" className="primary" disabled={action.busy}>
          Add
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
