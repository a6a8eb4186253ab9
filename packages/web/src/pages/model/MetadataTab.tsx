import { useId, useState, type FormEvent } from 'react';
import { models, type MetadataItem, type Model } from '@cairn/protocol';
import { call } from '../../api/client';
import { useAction } from '../../lib/useApi';
import { ConfirmDialog } from '../../components/ui';

/** The types the SDKs write (sdk-behaviour §3.3) and read back cast. */
const TYPES = ['str', 'int', 'float', 'bool', 'list', 'tuple', 'dict'];

/** A value the SDK could not cast back to its type is refused here rather than stored. */
export function metadataValueProblem(type: string, value: string): string | undefined {
  const v = value.trim();
  switch (type.trim().toLowerCase()) {
    case 'int':
      return /^[+-]?\d+$/.test(v) ? undefined : 'An int value must be a whole number.';
    case 'float':
      return v !== '' && (Number.isFinite(Number(v)) || /^[+-]?(nan|inf|infinity)$/i.test(v)) ? undefined : 'A float value must be a number.';
    case 'bool':
      return /^(true|false)$/i.test(v) ? undefined : 'A bool value must be true or false.';
    default:
      return undefined;
  }
}

function itemsOf(model: Model): MetadataItem[] {
  if (!model.metadata || Array.isArray(model.metadata)) return [];
  return Object.entries(model.metadata)
    .map(([key, item]) => ({ key: item.key ?? key, type: item.type ?? '', value: item.value ?? '' }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

/** Key/type/value items: add, edit and delete each one on its own (no overwriting of other keys). */
export function MetadataTab({ model, reload }: { model: Model; reload: () => void }) {
  const items = itemsOf(model);
  const [editing, setEditing] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<string | null>(null);
  const action = useAction();

  const save = async (original: string | null, item: MetadataItem) => {
    await call(models.add_or_update_metadata, { model: model.id, metadata: [item] });
    if (original !== null && original !== item.key) await call(models.delete_metadata, { model: model.id, keys: [original] });
    reload();
  };

  return (
    <div className="metadata">
      <table className="grid compact">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Type</th>
            <th scope="col">Value</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) =>
            editing === item.key ? (
              <MetadataEditRow key={item.key} initial={item} existing={items.map((i) => i.key)} onCancel={() => setEditing(null)} onSave={async (next) => {
                await save(item.key, next);
                setEditing(null);
              }} />
            ) : (
              <tr key={item.key} data-key={item.key}>
                <td data-col="key">{item.key}</td>
                <td data-col="type">{item.type}</td>
                <td data-col="value" className="break">
                  {item.value}
                </td>
                <td>
                  <div className="row-actions">
                    <button type="button" aria-label={`Edit ${item.key}`} onClick={() => setEditing(item.key)}>
                      Edit
                    </button>
                    <button type="button" className="danger" aria-label={`Delete ${item.key}`} onClick={() => setDeleting(item.key)}>
                      Delete
                    </button>
                  </div>
                </td>
              </tr>
            ),
          )}
          {adding && (
            <MetadataEditRow initial={{ key: '', type: 'str', value: '' }} existing={items.map((i) => i.key)} onCancel={() => setAdding(false)} onSave={async (next) => {
              await save(null, next);
              setAdding(false);
            }} />
          )}
        </tbody>
      </table>
      {!items.length && !adding && <p className="empty">No metadata.</p>}
      {!adding && (
        <button type="button" onClick={() => setAdding(true)}>
          Add metadata
        </button>
      )}
      <ConfirmDialog
        title="Delete metadata"
        open={deleting !== null}
        danger
        busy={action.busy}
        error={action.error}
        confirmLabel="Delete"
        message={
          <p>
            Delete the metadata key <strong>{deleting}</strong>?
          </p>
        }
        onConfirm={async () => {
          if (deleting === null) return;
          const ok = await action.run(() => call(models.delete_metadata, { model: model.id, keys: [deleting] }));
          if (ok) {
            setDeleting(null);
            reload();
          }
        }}
        onClose={() => {
          action.clearError();
          setDeleting(null);
        }}
      />
    </div>
  );
}

function MetadataEditRow(props: { initial: MetadataItem; existing: string[]; onSave: (item: MetadataItem) => Promise<void>; onCancel: () => void }) {
  const [key, setKey] = useState(props.initial.key);
  const [type, setType] = useState(props.initial.type);
  const [value, setValue] = useState(props.initial.value);
  const [problem, setProblem] = useState<string>();
  const action = useAction();
  const formId = useId();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const k = key.trim();
    const issue = !k
      ? 'The key must not be empty.'
      : k !== props.initial.key && props.existing.includes(k)
        ? `The key "${k}" exists already.`
        : metadataValueProblem(type, value);
    setProblem(issue);
    if (issue) return;
    await action.run(() => props.onSave({ key: k, type: type.trim(), value }));
  };
  const types = TYPES.includes(type) || !type ? TYPES : [type, ...TYPES];
  return (
    <tr className="editing">
      <td>
        <form id={formId} onSubmit={submit} />
        <input form={formId} aria-label="Metadata key" value={key} onChange={(e) => setKey(e.target.value)} required autoFocus />
      </td>
      <td>
        <select form={formId} aria-label="Metadata type" value={type} onChange={(e) => setType(e.target.value)}>
          {types.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </td>
      <td>
        <input form={formId} aria-label="Metadata value" value={value} aria-invalid={problem ? true : undefined} onChange={(e) => setValue(e.target.value)} />
        {(problem || action.error) && (
          <span className="field-error" role="alert">
            {problem ?? action.error}
          </span>
        )}
      </td>
      <td>
        <div className="row-actions">
          <button type="submit" form={formId} className="primary" disabled={action.busy}>
            Save
          </button>
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      </td>
    </tr>
  );
}
