import { useEffect, useMemo, useState } from 'react';
import { models, type Model } from '@cairn/protocol';
import { call } from '../../api/client';
import { useAction } from '../../lib/useApi';
import { ErrorBox } from '../../components/ui';

interface Row {
  key: number;
  label: string;
  id: string;
}

const INTEGER = /^-?\d+$/;

function rowsOf(labels: Model['labels']): Row[] {
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

/** Label → class id. Editable while the model is a draft; ids must be unique integers. */
export function LabelsTab({ model, reload }: { model: Model; reload: () => void }) {
  const stored = useMemo(() => rowsOf(model.labels), [model.labels]);
  const [rows, setRows] = useState(stored);
  const [checked, setChecked] = useState(false);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  useEffect(() => setRows(stored), [stored]);
  const problems = labelProblems(rows);
  const editable = !model.ready;
  const dirty = JSON.stringify(rows.map((r) => [r.label, r.id])) !== JSON.stringify(stored.map((r) => [r.label, r.id]));

  const change = (key: number, field: 'label' | 'id', value: string) => {
    setSaved(false);
    setRows((current) => current.map((r) => (r.key === key ? { ...r, [field]: value } : r)));
  };
  const save = async () => {
    setChecked(true);
    setSaved(false);
    if (problems.size) return;
    const labels = Object.fromEntries(rows.map((r) => [r.label.trim(), Number(r.id.trim())]));
    if (await action.run(() => call(models.edit, { model: model.id, labels }))) {
      setSaved(true);
      setChecked(false);
      reload();
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
      {!editable && <p className="muted">Published models are read-only.</p>}
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
