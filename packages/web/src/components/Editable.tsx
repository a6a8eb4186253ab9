import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { useAction } from '../lib/useApi';
import { ErrorBox } from './ui';

/** Text shown as is, with an Edit button that turns it into a field (one line, or several). */
export function EditableText(props: {
  label: string;
  value: string;
  onSave: (value: string) => Promise<unknown>;
  multiline?: boolean;
  placeholder?: string;
  required?: boolean;
  minLength?: number;
  className?: string;
  display?: (value: string) => ReactNode;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(props.value);
  const action = useAction();
  const fieldId = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await action.run(() => props.onSave(draft))) setEditing(false);
  };

  if (!editing) {
    return (
      <div className={`editable ${props.className ?? ''}`}>
        {props.display ? props.display(props.value) : <span className="editable-value">{props.value || <span className="muted">{props.placeholder ?? 'None'}</span>}</span>}
        <button
          type="button"
          className="link"
          aria-label={`Edit ${props.label.toLowerCase()}`}
          onClick={() => {
            setDraft(props.value);
            action.clearError();
            setEditing(true);
          }}
        >
          Edit
        </button>
      </div>
    );
  }
  return (
    <form className={`editable editing ${props.className ?? ''}`} onSubmit={submit}>
      <label className="visually-hidden" htmlFor={fieldId}>
        {props.label}
      </label>
      {props.multiline ? (
        <textarea id={fieldId} value={draft} onChange={(e) => setDraft(e.target.value)} rows={4} autoFocus />
      ) : (
        <input id={fieldId} value={draft} onChange={(e) => setDraft(e.target.value)} required={props.required} minLength={props.minLength} autoFocus />
      )}
      <button type="submit" className="primary" disabled={action.busy}>
        Save
      </button>
      <button type="button" onClick={() => setEditing(false)}>
        Cancel
      </button>
      <ErrorBox error={action.error} />
    </form>
  );
}

/** Tags as chips with a remove button each, and a field to add one. */
export function TagsEditor({ tags, onSave }: { tags: readonly string[]; onSave: (tags: string[]) => Promise<unknown> }) {
  const [draft, setDraft] = useState('');
  const action = useAction();
  const add = async (event: FormEvent) => {
    event.preventDefault();
    const tag = draft.trim();
    if (!tag || tags.includes(tag)) {
      setDraft('');
      return;
    }
    if (await action.run(() => onSave([...tags, tag]))) setDraft('');
  };
  return (
    <div className="tags-editor">
      <ul className="tags" aria-label="Tags">
        {tags.map((tag) => (
          <li key={tag} className="tag">
            {tag}
            <button type="button" className="tag-remove" aria-label={`Remove tag ${tag}`} disabled={action.busy} onClick={() => action.run(() => onSave(tags.filter((t) => t !== tag)))}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={add} className="tag-add">
        <label>
          <span className="visually-hidden">New tag</span>
          <input value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="Add tag" size={12} />
        </label>
        <button type="submit" disabled={action.busy || !draft.trim()}>
          Add
        </button>
      </form>
      <ErrorBox error={action.error} />
    </div>
  );
}
