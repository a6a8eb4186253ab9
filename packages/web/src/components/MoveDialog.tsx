import { useState, type FormEvent } from 'react';
import { loadAllProjects } from '../pages/ProjectsPage';
import { useAction, useQuery } from '../lib/useApi';
import { Dialog, ErrorBox } from './ui';

export type MoveTarget = { project: string } | { project_name: string };

/** Picks an existing project, or names a new one (the server creates it). */
export function MoveDialog({ count, onClose, onMove }: { count: number; onClose: () => void; onMove: (target: MoveTarget) => Promise<void> }) {
  const list = useQuery((signal) => loadAllProjects(signal), []);
  const [choice, setChoice] = useState('');
  const [newName, setNewName] = useState('');
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const target: MoveTarget = choice === '__new' ? { project_name: newName.trim() } : { project: choice };
    if (await action.run(() => onMove(target))) onClose();
  };
  return (
    <Dialog title={`Move ${count} model(s)`} open onClose={onClose}>
      <form onSubmit={submit} className="form">
        <label>
          Project
          <select value={choice} onChange={(e) => setChoice(e.target.value)} required autoFocus>
            <option value="" disabled>
              {list.loading ? 'Loading projects…' : 'Choose a project'}
            </option>
            {list.data?.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
            <option value="__new">New project…</option>
          </select>
        </label>
        {choice === '__new' && (
          <label>
            New project name
            <input value={newName} onChange={(e) => setNewName(e.target.value)} required minLength={3} />
          </label>
        )}
        <ErrorBox error={list.error ?? action.error} />
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={action.busy || !choice}>
            Move
          </button>
        </div>
      </form>
    </Dialog>
  );
}
