import { useEffect, useState } from 'react';
import { models, type Model } from '@cairn/protocol';
import { call } from '../../api/client';
import { configTextError, designText } from '../../lib/config';
import { useAction } from '../../lib/useApi';
import { ErrorBox } from '../../components/ui';

/** The model's configuration (`design.design`): editable while the model is a draft, checked before it is saved. */
export function NetworkTab({ model, reload }: { model: Model; reload: () => void }) {
  const stored = designText(model.design);
  const [text, setText] = useState(stored);
  const [invalid, setInvalid] = useState<string>();
  const [saved, setSaved] = useState(false);
  const action = useAction();
  useEffect(() => setText(stored), [stored]);

  if (model.ready) {
    return (
      <div className="network">
        <p className="muted">Published models are read-only.</p>
        {stored ? <pre className="code" aria-label="Configuration">{stored}</pre> : <p className="empty">No configuration.</p>}
      </div>
    );
  }

  const save = async () => {
    setSaved(false);
    const problem = configTextError(text);
    setInvalid(problem);
    if (problem) return;
    if (await action.run(() => call(models.edit, { model: model.id, design: { design: text } }))) {
      setSaved(true);
      reload();
    }
  };

  return (
    <form
      className="network form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label htmlFor="config-text">Configuration (HOCON or JSON)</label>
      <textarea
        id="config-text"
        className="code"
        spellCheck={false}
        rows={18}
        value={text}
        aria-invalid={invalid ? true : undefined}
        aria-describedby={invalid ? 'config-error' : undefined}
        onChange={(e) => {
          setText(e.target.value);
          setInvalid(undefined);
          setSaved(false);
        }}
      />
      {invalid && (
        <pre id="config-error" className="error" role="alert">
          {invalid}
        </pre>
      )}
      <ErrorBox error={action.error} />
      <div className="form-actions">
        <button type="submit" className="primary" disabled={action.busy || text === stored}>
          Save configuration
        </button>
        <button type="button" disabled={text === stored} onClick={() => setText(stored)}>
          Discard changes
        </button>
        {saved && (
          <span role="status" className="muted">
            Saved
          </span>
        )}
      </div>
    </form>
  );
}
