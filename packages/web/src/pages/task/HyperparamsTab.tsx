import { useState, type FormEvent } from 'react';
import { tasks, type Task } from '@cairn/protocol';
import { call } from '../../api/client';
import { useAction, useQuery } from '../../lib/useApi';
import { ErrorBox, Loading } from '../../components/ui';

interface Param {
  section: string;
  name: string;
  value: string;
  type: string;
  description: string;
}

/** Hyperparameters by section; values editable while the task is `created`. */
export function HyperparamsTab({ task }: { task: Task }) {
  const editable = task.status === 'created';
  const query = useQuery(async (signal) => {
    const res = await call(tasks.get_hyper_params, { tasks: [task.id] }, { signal });
    return (res.params.find((p) => p.task === task.id)?.hyperparams ?? []).map((p) => ({
      section: p.section ?? '',
      name: p.name ?? '',
      value: p.value ?? '',
      type: p.type ?? '',
      description: p.description ?? '',
    }));
  }, [task.id]);
  const sections = new Map<string, Param[]>();
  for (const p of query.data ?? []) sections.set(p.section, [...(sections.get(p.section) ?? []), p]);
  const action = useAction();

  const save = async (param: Param) => {
    await call(tasks.edit_hyper_params, {
      task: task.id,
      hyperparams: [{ section: param.section, name: param.name, value: param.value, type: param.type || undefined, description: param.description || undefined }],
      replace_hyperparams: 'none',
    });
    query.reload();
  };
  const remove = (param: Param) =>
    action.run(async () => {
      await call(tasks.delete_hyper_params, { task: task.id, hyperparams: [{ section: param.section, name: param.name }] });
      query.reload();
    });

  return (
    <div className="hyperparams">
      {!editable && <p className="muted">Only tasks in the "created" state can be edited.</p>}
      {query.loading && !query.data && <Loading />}
      <ErrorBox error={query.error ?? action.error} onRetry={query.error ? query.reload : undefined} />
      {query.data && !query.data.length && <p className="empty">No hyperparameters.</p>}
      {[...sections.entries()]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([section, params], index) => (
          <section key={section} aria-labelledby={`hp-section-${index}`} data-section={section}>
            <h2 id={`hp-section-${index}`}>{section}</h2>
            <table className="grid compact">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Value</th>
                  <th scope="col">Type</th>
                  {editable && (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {params
                  .sort((a, b) => a.name.localeCompare(b.name))
                  .map((p) => (
                    <ParamRow key={p.name} param={p} editable={editable} onSave={save} onDelete={() => remove(p)} />
                  ))}
              </tbody>
            </table>
          </section>
        ))}
      {editable && <NewParam onSave={save} />}
    </div>
  );
}

function ParamRow({ param, editable, onSave, onDelete }: { param: Param; editable: boolean; onSave: (p: Param) => Promise<void>; onDelete: () => void }) {
  const [value, setValue] = useState(param.value);
  const action = useAction();
  return (
    <tr data-param={`${param.section}/${param.name}`}>
      <td title={param.description || undefined}>{param.name}</td>
      <td>
        {editable ? (
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void action.run(() => onSave({ ...param, value }));
            }}
          >
            <input aria-label={`Value of ${param.section}/${param.name}`} value={value} onChange={(e) => setValue(e.target.value)} />
            <button type="submit" disabled={action.busy || value === param.value}>
              Save
            </button>
            {action.error && (
              <span className="field-error" role="alert">
                {action.error}
              </span>
            )}
          </form>
        ) : (
          <span className="break">{param.value}</span>
        )}
      </td>
      <td>{param.type}</td>
      {editable && (
        <td>
          <button type="button" className="danger" aria-label={`Delete ${param.section}/${param.name}`} onClick={onDelete}>
            Delete
          </button>
        </td>
      )}
    </tr>
  );
}

function NewParam({ onSave }: { onSave: (p: Param) => Promise<void> }) {
  const [section, setSection] = useState('General');
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await action.run(() => onSave({ section: section.trim(), name: name.trim(), value, type: '', description: '' }))) {
      setName('');
      setValue('');
    }
  };
  return (
    <form className="inline-form new-param" onSubmit={submit} aria-label="Add hyperparameter">
      <label>
        Section
        <input value={section} onChange={(e) => setSection(e.target.value)} required />
      </label>
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        Value
        <input value={value} onChange={(e) => setValue(e.target.value)} />
      </label>
      <button type="submit" disabled={action.busy}>
        Add hyperparameter
      </button>
      <ErrorBox error={action.error} />
    </form>
  );
}
