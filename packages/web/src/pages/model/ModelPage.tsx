import { useState } from 'react';
import { Navigate, NavLink, useNavigate, useParams, Link } from 'react-router-dom';
import { models, type Model } from '@cairn/protocol';
import { ApiError, batchFailureText, call } from '../../api/client';
import { refField, refId } from '../../lib/format';
import { useAction, useQuery, useTitle } from '../../lib/useApi';
import { ConfirmDialog, ErrorBox, Loading, Menu, StatusBadge } from '../../components/ui';
import { EditableText, TagsEditor } from '../../components/Editable';
import { MoveDialog } from '../../components/MoveDialog';
import { ScalarsView } from '../../components/ScalarsView';
import { PlotsView } from '../../components/PlotsView';
import { GeneralTab } from './GeneralTab';
import { NetworkTab } from './NetworkTab';
import { LabelsTab } from './LabelsTab';
import { MetadataTab } from './MetadataTab';
import { LineageTab } from './LineageTab';

/** Everything the page shows, read in one call (reference fields joined by the server). */
const MODEL_FIELDS = [
  'id', 'name', 'created', 'last_update', 'last_change', 'framework', 'ready', 'uri', 'weights_size', 'weights_sha256',
  'user.name', 'tags', 'system_tags', 'project.name', 'task.name', 'task.project', 'parent.name', 'comment', 'design', 'labels', 'metadata',
];

export const MODEL_TABS = [
  { id: 'general', title: 'General' },
  { id: 'network', title: 'Network' },
  { id: 'labels', title: 'Labels' },
  { id: 'metadata', title: 'Metadata' },
  { id: 'lineage', title: 'Lineage' },
  { id: 'scalars', title: 'Scalars' },
  { id: 'plots', title: 'Plots' },
] as const;

export function isArchived(model: Model): boolean {
  return model.system_tags?.includes('archived') ?? false;
}

export function ModelPage() {
  const { projectId = '*', modelId = '', tab } = useParams();
  const query = useQuery(async (signal) => {
    const res = await call(models.get_by_id_ex, { id: [modelId], only_fields: MODEL_FIELDS }, { signal });
    const model = res.models[0];
    if (!model) throw new ApiError('models.get_by_id_ex', 400, 201, `There is no model with the id ${modelId}`);
    return model;
  }, [modelId]);

  useTitle(query.data?.name);

  // ClearML's name for the lineage tab is "tasks"; old links keep working.
  if (tab === 'tasks') return <Navigate to={`/projects/${projectId}/models/${modelId}/lineage`} replace />;
  // A link without a tab opens General, with the URL saying so (shareable as seen).
  if (!MODEL_TABS.some((t) => t.id === tab)) return <Navigate to={`/projects/${projectId}/models/${modelId}/general`} replace />;

  const model = query.data?.id === modelId ? query.data : undefined;
  const base = `/projects/${projectId}/models/${modelId}`;
  // Scalars and plots need only the model's id: they load alongside the model, not after it (a page of large
  // plots is the slowest thing the app shows).
  const eventsTab = tab === 'scalars' || tab === 'plots';
  return (
    <article className="entity-page" aria-labelledby="page-title">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/projects">Projects</Link> /{' '}
        <Link to={`/projects/${projectId}/models`}>{model ? (refField(model.project, 'name') ?? (projectId === '*' ? 'All projects' : 'Project')) : 'Models'}</Link> / Model
      </nav>
      {!model && query.loading && <Loading label="Loading model…" />}
      <ErrorBox error={query.error} onRetry={query.reload} />
      {model && (
        <>
          <ModelHeader model={model} projectId={projectId} reload={query.reload} />
          <nav className="tabs entity-tabs" aria-label="Model sections">
            {MODEL_TABS.map((t) => (
              <NavLink key={t.id} to={`${base}/${t.id}`} replace>
                {t.title}
              </NavLink>
            ))}
          </nav>
        </>
      )}
      {(model || (eventsTab && !query.error)) && (
        <section className="tab-panel" aria-label={MODEL_TABS.find((t) => t.id === tab)?.title}>
          {model && tab === 'general' && <GeneralTab model={model} projectId={projectId} reload={query.reload} />}
          {model && tab === 'network' && <NetworkTab model={model} reload={query.reload} />}
          {model && tab === 'labels' && <LabelsTab model={model} reload={query.reload} />}
          {model && tab === 'metadata' && <MetadataTab model={model} reload={query.reload} />}
          {model && tab === 'lineage' && <LineageTab model={model} projectId={projectId} />}
          {tab === 'scalars' && <ScalarsView entity={modelId} modelEvents />}
          {tab === 'plots' && <PlotsView entity={modelId} modelEvents />}
        </section>
      )}
    </article>
  );
}

function ModelHeader({ model, projectId, reload }: { model: Model; projectId: string; reload: () => void }) {
  const navigate = useNavigate();
  const action = useAction();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [moving, setMoving] = useState(false);
  const archived = isArchived(model);
  const update = async (fields: { name?: string; comment?: string; tags?: string[] }) => {
    await call(models.update, { model: model.id, ...fields });
    reload();
  };
  const batch = async (failed: Parameters<typeof batchFailureText>[0], verb: string) => {
    reload();
    const text = batchFailureText(failed, verb);
    if (text) throw new Error(text);
  };

  return (
    <header className="entity-header">
      <div className="entity-title">
        <EditableText
          label="Model name"
          value={model.name ?? ''}
          required
          minLength={3}
          onSave={(name) => update({ name: name.trim() })}
          display={(name) => <h1 id="page-title">{name}</h1>}
        />
        <StatusBadge ready={model.ready} />
        {archived && <span className="badge badge-archived">Archived</span>}
        <Menu
          label="Actions"
          items={[
            { label: 'Publish', disabled: model.ready, onSelect: () => action.run(async () => batch((await call(models.publish_many, { ids: [model.id] })).failed, 'publish')) },
            archived
              ? { label: 'Restore from archive', onSelect: () => action.run(async () => batch((await call(models.unarchive_many, { ids: [model.id] })).failed, 'restore')) }
              : { label: 'Archive', onSelect: () => action.run(async () => batch((await call(models.archive_many, { ids: [model.id] })).failed, 'archive')) },
            { label: 'Move to project…', onSelect: () => setMoving(true) },
            { label: 'Delete…', danger: true, onSelect: () => setConfirmDelete(true) },
          ]}
        />
      </div>
      <TagsEditor tags={model.tags ?? []} onSave={(tags) => update({ tags })} />
      <EditableText label="Description" value={model.comment ?? ''} multiline placeholder="No description" className="description" onSave={(comment) => update({ comment })} />
      <ErrorBox error={action.error} />
      <ConfirmDialog
        title="Delete model"
        open={confirmDelete}
        danger
        busy={action.busy}
        error={action.error}
        confirmLabel="Delete"
        message={
          <p>
            Delete the model <strong>{model.name}</strong> and its weights file? This cannot be undone.
          </p>
        }
        onConfirm={async () => {
          const ok = await action.run(async () => {
            const res = await call(models.delete_many, { ids: [model.id], force: true });
            const text = batchFailureText(res.failed, 'delete');
            if (text) throw new Error(text);
          });
          setConfirmDelete(false);
          if (ok) navigate(`/projects/${projectId}/models`);
        }}
        onClose={() => setConfirmDelete(false)}
      />
      {moving && (
        <MoveDialog
          count={1}
          onClose={() => setMoving(false)}
          onMove={async (target) => {
            const res = await call(models.move, { ids: [model.id], ...target });
            const newProject = res.project_id ?? refId(model.project) ?? '*';
            navigate(`/projects/${newProject}/models/${model.id}/general`, { replace: true });
            reload();
          }}
        />
      )}
    </header>
  );
}
