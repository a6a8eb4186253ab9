import { useEffect, useMemo, useState } from 'react';
import { useAction } from '../lib/useApi';
import { ErrorBox } from './ui';

/** Label name → class id, as models and tasks (`execution.model_labels`) store them. */
export type Labels = Record<string, number | null> | null | undefined;

interface Row {
  key: number;
  label: string;
  id: string;
}

const INTEGER = /^-?\d+$/;

function rowsOf(labels: Labels): Row[] {
  return Object.entries(labels ?? {})
    .sort((a, b) => (a[1] ?? Infinity) - (b[1] ?? Infinity) || a[0].localeCompare(b[0]))
    .map(([label, id], key) => ({ key, label, id: id === null || id === undefined ? '' : String(id) }));
}

/** Per-row problems: empty or repeated names, ids that are not integers, repeated ids. */
export function labelProblems(rows: readonly Row[]): Map<number, string> {
  const problems = new Map<number, string>();
  const names = new Map<string, number>();
  const ids = new Map<number, number>();
  for (const row of rows) {
    const label = row.label.trim();
    const idText = row.id.trim();
    if (!label) problems.set(row.key, 'The label needs a name.');
    else if (names.has(label)) problems.set(row.key, `The label "${label}" is listed twice.`);
    else names.set(label, row.key);
    if (problems.has(row.key)) continue;
    if (!INTEGER.test(idText) || !Number.isSafeInteger(Number(idText))) problems.set(row.key, `The id of "${label}" must be a whole number.`);
    else if (ids.has(Number(idText))) problems.set(row.key, `The id ${idText} is used by more than one label.`);
    else ids.set(Number(idText), row.key);
  }
  return problems;
}

/**
 * A label enumeration (label → class id) as a table, editable when `editable`; ids must be unique integers.
 * `onSave` stores the edited enumeration.
 */
export function LabelsEditor({ labels, editable, readOnlyNote, onSave }: { labels: Labels; editable: boolean; readOnlyNote: string; onSave: (labels: Record<string, number>) => Promise<void> }) {
  const stored = useMemo(() => rowsOf(labels), [labels]);
  const [rows, setRows] = useState(stored);
  const [checked, setChecked] = useState(false);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  useEffect(() => setRows(stored), [stored]);
  const problems = labelProblems(rows);
  const dirty = JSON.stringify(rows.map((r) => [r.label, r.id])) !== JSON.stringify(stored.map((r) => [r.label, r.id]));

  const change = (key: number, field: 'label' | 'id', value: string) => {
    setSaved(false);
    setRows((current) => current.map((r) => (r.key === key ? { ...r, [field]: value } : r)));
  };
  const save = async () => {
    setChecked(true);
    setSaved(false);
    if (problems.size) return;
    const next = Object.fromEntries(rows.map((r) => [r.label.trim(), Number(r.id.trim())]));
    if (await action.run(() => onSave(next))) {
      setSaved(true);
      setChecked(false);
    }
  };

  if (!editable && !rows.length) return <p className="empty">No labels.</p>;
  return (
    <form
      className="labels"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      {!editable && <p className="muted">{readOnlyNote}</p>}
      <table className="grid compact">
        <thead>
          <tr>
            <th scope="col">Label</th>
            <th scope="col">ID</th>
            {editable && (
              <th scope="col">
                <span className="visually-hidden">Remove</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => {
            const problem = checked ? problems.get(row.key) : undefined;
            return (
              <tr key={row.key} data-label={row.label}>
                {editable ? (
                  <>
                    <td>
                      <input aria-label={`Label ${index + 1} name`} value={row.label} aria-invalid={problem ? true : undefined} onChange={(e) => change(row.key, 'label', e.target.value)} />
                    </td>
                    <td>
                      <input
                        aria-label={`Label ${index + 1} id`}
                        value={row.id}
                        inputMode="numeric"
                        aria-invalid={problem ? true : undefined}
                        onChange={(e) => change(row.key, 'id', e.target.value)}
                      />
                      {problem && <span className="field-error">{problem}</span>}
                    </td>
                    <td>
                      <button type="button" aria-label={`Remove label ${row.label || index + 1}`} onClick={() => setRows(rows.filter((r) => r.key !== row.key))}>
                        Remove
                      </button>
                    </td>
                  </>
                ) : (
                  <>
                    <td>{row.label}</td>
                    <td className="num">{row.id}</td>
                  </>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {editable && (
        <>
          {checked && problems.size > 0 && (
            <p className="error" role="alert">
              Fix the labels marked above before saving: {[...problems.values()][0]}
            </p>
          )}
          <ErrorBox error={action.error} />
          <div className="form-actions">
            <button
              type="button"
              onClick={() => {
                const next = Math.max(-1, ...rows.map((r) => (INTEGER.test(r.id) ? Number(r.id) : -1))) + 1;
                setRows([...rows, { key: Math.max(0, ...rows.map((r) => r.key)) + 1, label: '', id: String(next) }]);
              }}
            >
              Add label
            </button>
            <button type="submit" className="primary" disabled={action.busy || !dirty}>
              Save labels
            </button>
            {saved && (
              <span role="status" className="muted">
                Saved
              </span>
            )}
          </div>
        </>
      )}
    </form>
  );
}
