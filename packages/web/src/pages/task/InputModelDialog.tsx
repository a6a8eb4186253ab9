import { useState, type FormEvent } from 'react';
import { models, tasks, type Task } from '@cairn/protocol';
import { call } from '../../api/client';
import { escapeRegex, formatDate, refField } from '../../lib/format';
import { useAction, useQuery } from '../../lib/useApi';
import { Dialog, ErrorBox, StatusBadge } from '../../components/ui';
import { SearchBox } from '../../components/SearchBox';

/** Models offered per search: the newest matches; a longer name narrows them. */
const CANDIDATES = 20;

/**
 * Chooses the model a draft task uses as input `entry` (or a new entry): a remote run's `InputModel.connect` is
 * handed this model instead of the one its code names.
 */
export function InputModelDialog({ task, entry, onClose, onDone }: { task: Task; entry?: string; onClose: () => void; onDone: () => void }) {
  const [name, setName] = useState(entry ?? 'Input Model');
  const [search, setSearch] = useState('');
  const [selected, setSelected] = useState('');
  const action = useAction();
  const found = useQuery(
    async (signal) =>
      (
        await call(
          models.get_all_ex,
          {
            only_fields: ['id', 'name', 'ready', 'created', 'project.name'],
            order_by: ['-created'],
            page_size: CANDIDATES,
            system_tags: ['-archived'],
            ...(search ? { name: escapeRegex(search) } : {}),
          },
          { signal },
        )
      ).models,
    [search],
  );
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await action.run(() => call(tasks.add_or_update_model, { task: task.id, name: name.trim(), model: selected, type: 'input' }))) {
      onClose();
      onDone();
    }
  };
  return (
    <Dialog title={entry ? `Input model "${entry}"` : 'Add input model'} open onClose={onClose}>
      <form className="form input-model-picker" onSubmit={submit}>
        {!entry && (
          <label>
            Entry name
            <input value={name} onChange={(e) => setName(e.target.value)} required />
          </label>
        )}
        <SearchBox label="Search models" placeholder="Model name" value={search} onCommit={setSearch} />
        <fieldset>
          <legend>Model</legend>
          {found.data?.map((m) => (
            <label key={m.id} className="check">
              <input type="radio" name="model" value={m.id} checked={selected === m.id} onChange={() => setSelected(m.id)} />
              {m.name} <StatusBadge ready={m.ready} /> <span className="muted small">{refField(m.project, 'name') ?? ''} {formatDate(m.created)}</span>
            </label>
          ))}
          {found.data && !found.data.length && <p className="empty">No models match.</p>}
        </fieldset>
        <ErrorBox error={found.error ?? action.error} />
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={action.busy || !selected}>
            Use model
          </button>
        </div>
      </form>
    </Dialog>
  );
}
