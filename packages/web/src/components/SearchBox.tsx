import { useEffect, useState } from 'react';

/** Typing pauses this long before the search is sent. */
const SEARCH_DEBOUNCE_MS = 300;

/** A search field that commits its text once typing pauses; follows the committed value (e.g. on Back). */
export function SearchBox({ label, value, placeholder, onCommit }: { label: string; value: string; placeholder: string; onCommit: (text: string) => void }) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text.trim() === value) return;
    const timer = setTimeout(() => onCommit(text.trim()), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, value, onCommit]);
  return (
    <label className="search">
      <span className="visually-hidden">{label}</span>
      <input type="search" placeholder={placeholder} value={text} onChange={(e) => setText(e.target.value)} />
    </label>
  );
}
