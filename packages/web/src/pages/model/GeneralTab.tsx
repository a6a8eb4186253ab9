import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { models, type Model } from '@cairn/protocol';
import { call } from '../../api/client';
import { formatBytes, formatDate, refField, refId, safeHref } from '../../lib/format';
import { CopyButton, StatusBadge } from '../../components/ui';
import { EditableText } from '../../components/Editable';
import { isArchived } from './ModelPage';

function Field({ name, label, children }: { name: string; label: string; children: ReactNode }) {
  return (
    <div className="field" data-field={name}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

export function GeneralTab({ model, projectId, reload }: { model: Model; projectId: string; reload: () => void }) {
  const href = safeHref(model.uri);
  const taskId = refId(model.task);
  // `task.project` is projected, so the link can go to the task's own project.
  const taskProject = refField(model.task, 'project');
  const parentId = refId(model.parent);
  const modelProject = refId(model.project);
  return (
    <dl className="fields">
      <Field name="id" label="ID">
        <span className="mono">{model.id}</span> <CopyButton text={model.id} label="Copy ID" />
      </Field>
      <Field name="created" label="Created">
        {formatDate(model.created)}
      </Field>
      <Field name="updated" label="Updated">
        {formatDate(model.last_update)}
      </Field>
      <Field name="framework" label="Framework">
        {model.framework || <span className="muted">Unknown</span>}
      </Field>
      <Field name="status" label="Status">
        <StatusBadge ready={model.ready} />
      </Field>
      <Field name="url" label="Model URL">
        {model.uri ? (
          <div className="url">
            <span className="mono break">{model.uri}</span>
            <CopyButton text={model.uri} label="Copy URL" />
            {href && (
              <a className="button" href={href} download>
                Download
              </a>
            )}
          </div>
        ) : (
          <span className="muted">No weights uploaded</span>
        )}
      </Field>
      <Field name="size" label="Size">
        {model.weights_size !== null && model.weights_size !== undefined ? formatBytes(model.weights_size) : <span className="muted">Unknown</span>}
      </Field>
      <Field name="sha256" label="SHA-256">
        {model.weights_sha256 ? <span className="mono break">{model.weights_sha256}</span> : <span className="muted">Unknown</span>}
      </Field>
      <Field name="user" label="User">
        {refField(model.user, 'name') ?? refId(model.user)}
      </Field>
      <Field name="archived" label="Archived">
        {isArchived(model) ? 'Yes' : 'No'}
      </Field>
      <Field name="project" label="Project">
        {modelProject ? <Link to={`/projects/${modelProject}/models`}>{refField(model.project, 'name') ?? modelProject}</Link> : <span className="muted">None</span>}
      </Field>
      <Field name="task" label="Creating task">
        {taskId ? (
          <Link to={`/projects/${taskProject ?? modelProject ?? projectId}/tasks/${taskId}/general`}>{refField(model.task, 'name') ?? taskId}</Link>
        ) : (
          <span className="muted">None</span>
        )}
      </Field>
      <Field name="parent" label="Parent model">
        {parentId ? <Link to={`/projects/*/models/${parentId}/general`}>{refField(model.parent, 'name') ?? parentId}</Link> : <span className="muted">None</span>}
      </Field>
      <Field name="description" label="Description">
        <EditableText
          label="Description (general)"
          value={model.comment ?? ''}
          multiline
          placeholder="No description"
          onSave={async (comment) => {
            await call(models.update, { model: model.id, comment });
            reload();
          }}
        />
      </Field>
    </dl>
  );
}
