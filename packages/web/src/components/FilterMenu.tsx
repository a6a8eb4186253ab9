import { useEffect, useId, useRef, useState, type ReactNode } from 'react';

export interface FilterOption {
  value: string;
  label: string;
}

/** A button that opens a list of checkboxes; the chosen values filter a table. */
export function FilterMenu(props: {
  label: string;
  options: FilterOption[] | undefined;
  selected: readonly string[];
  onChange: (values: string[]) => void;
  emptyText?: string;
  /** Extra controls shown under the options. */
  children?: ReactNode;
}) {
  const [open, setOpen] = useState(false);
  const rootRef = useRef<HTMLDivElement>(null);
  const panelId = useId();

  useEffect(() => {
    if (!open) return;
    const onDown = (event: MouseEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    rootRef.current?.querySelector<HTMLInputElement>('input')?.focus();
    return () => document.removeEventListener('mousedown', onDown);
  }, [open]);

  const toggle = (value: string) => {
    const next = props.selected.includes(value) ? props.selected.filter((v) => v !== value) : [...props.selected, value];
    props.onChange(next);
  };

  return (
    <div
      className="menu filter-menu"
      ref={rootRef}
      onBlur={(e) => {
        // Focus moved to something else (Tab); clicks elsewhere are handled by the mousedown listener.
        if (e.relatedTarget && !rootRef.current?.contains(e.relatedTarget as Node)) setOpen(false);
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          setOpen(false);
          rootRef.current?.querySelector<HTMLButtonElement>('button')?.focus();
        }
      }}
    >
      <button type="button" aria-expanded={open} aria-controls={panelId} className={props.selected.length ? 'active' : undefined} onClick={() => setOpen(!open)}>
        {props.label}
        {props.selected.length ? ` (${props.selected.length})` : ''}
        <span aria-hidden="true"> ▾</span>
      </button>
      {open && (
        <fieldset className="menu-list" id={panelId}>
          <legend className="visually-hidden">{props.label}</legend>
          {!props.options && <p className="muted small">Loading…</p>}
          {props.options?.length === 0 && <p className="muted small">{props.emptyText ?? 'Nothing to filter by'}</p>}
          {props.options?.map((option) => (
            <label key={option.value} className="check">
              <input type="checkbox" checked={props.selected.includes(option.value)} onChange={() => toggle(option.value)} />
              {option.label}
            </label>
          ))}
          {props.children}
          {props.selected.length > 0 && (
            <button type="button" className="link" onClick={() => props.onChange([])}>
              Clear
            </button>
          )}
        </fieldset>
      )}
    </div>
  );
}
