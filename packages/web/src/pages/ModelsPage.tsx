import { Fragment, useCallback, useMemo, useState, type ReactNode } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { models, projects, users, type Model } from '@cairn/protocol';
import { batchFailureText, call } from '../api/client';
import { metadataPath } from '../api/keys';
import { metricVariants, type MetricVariant } from '../api/events';
import { escapeRegex, formatDate, formatNumber, refField, refId } from '../lib/format';
import { useQuery, useAction } from '../lib/useApi';
import { useScrollList } from '../lib/useScrollList';
import { ScrollListFooter } from '../components/ScrollListFooter';
import { ConfirmDialog, ErrorBox, StatusBadge, Tags } from '../components/ui';
import { FilterMenu, type FilterOption } from '../components/FilterMenu';
import { MoveDialog } from '../components/MoveDialog';
import { ProjectHeader } from '../components/ProjectHeader';
import { SearchBox } from '../components/SearchBox';

/** Rows per scroll page: a screenful and a half, so the first paint is quick. */
export const MODELS_PAGE_SIZE = 50;

/** The table's own columns read only these fields (the row projection stays small). */
const BASE_FIELDS = ['id', 'name', 'framework', 'tags', 'system_tags', 'ready', 'project.name', 'user.name', 'task.name', 'last_update', 'comment'];
const SEARCH_FIELDS = ['id', 'name', 'comment', 'system_tags'];

interface ExtraColumn {
  /** `meta:<key>` or `metric:<metric hash>.<variant hash>` (as kept in the URL). */
  id: string;
  title: string;
  field: string;
  value: (model: Model) => ReactNode;
}

function metadataColumn(key: string): ExtraColumn {
  return {
    id: `meta:${key}`,
    title: key,
    field: metadataPath(key),
    value: (m) => (m.metadata && !Array.isArray(m.metadata) ? (m.metadata[key]?.value ?? '') : ''),
  };
}

function metricColumn(hashes: string, names?: { metric: string; variant: string }): ExtraColumn {
  const [mh = '', vh = ''] = hashes.split('.');
  return {
    id: `metric:${hashes}`,
    title: names ? `${names.metric} / ${names.variant}` : hashes,
    field: `last_metrics.${mh}.${vh}.value`,
    value: (m) => formatNumber(m.last_metrics?.[mh]?.[vh]?.value),
  };
}

interface View {
  search: string;
  sort: string;
  tags: string[];
  frameworks: string[];
  users: string[];
  status: string;
  archived: boolean;
  cols: string[];
}

function readView(params: URLSearchParams): View {
  return {
    search: params.get('q') ?? '',
    sort: params.get('sort') ?? '-last_update',
    tags: params.getAll('tag'),
    frameworks: params.getAll('framework'),
    users: params.getAll('user'),
    status: params.get('status') ?? 'all',
    archived: params.get('archived') === '1',
    cols: params.getAll('col'),
  };
}

function writeView(view: View): URLSearchParams {
  const params = new URLSearchParams();
  if (view.search) params.set('q', view.search);
  if (view.sort !== '-last_update') params.set('sort', view.sort);
  for (const t of view.tags) params.append('tag', t);
  for (const f of view.frameworks) params.append('framework', f);
  for (const u of view.users) params.append('user', u);
  if (view.status !== 'all') params.set('status', view.status);
  if (view.archived) params.set('archived', '1');
  for (const c of view.cols) params.append('col', c);
  return params;
}

export function ModelsPage() {
  const { projectId = '*' } = useParams();
  const allProjects = projectId === '*';
  const [params, setParams] = useSearchParams();
  const view = useMemo(() => readView(params), [params]);
  const setView = useCallback((change: Partial<View>) => setParams(writeView({ ...readView(params), ...change }), { replace: true }), [params, setParams]);

  const onSearch = useCallback((search: string) => setView({ search }), [setView]);

  const variants = useQuery((signal) => metricVariants(allProjects ? undefined : projectId, true, signal), [projectId]);
  const columns = useMemo(
    () =>
      view.cols.map((col) => {
        if (col.startsWith('meta:')) return metadataColumn(col.slice(5));
        const hashes = col.slice(7);
        const found = variants.data?.find((v) => `${v.metric_hash}.${v.variant_hash}` === hashes);
        return metricColumn(hashes, found);
      }),
    [view.cols, variants.data],
  );

  const listKey = JSON.stringify([projectId, view.search, view.sort, view.tags, view.frameworks, view.users, view.status, view.archived, columns.map((c) => c.field)]);
  const list = useScrollList<Model>(
    async (scrollId, signal) => {
      const res = await call(
        models.get_all_ex,
        {
          only_fields: [...BASE_FIELDS, ...columns.map((c) => c.field)],
          order_by: [view.sort],
          scroll_id: scrollId,
          size: MODELS_PAGE_SIZE,
          system_tags: [view.archived ? 'archived' : '-archived'],
          ...(allProjects ? {} : { project: [projectId], include_subprojects: false }),
          ...(view.search ? { _any_: { pattern: escapeRegex(view.search), fields: SEARCH_FIELDS } } : {}),
          ...(view.tags.length ? { tags: view.tags } : {}),
          ...(view.frameworks.length ? { framework: view.frameworks } : {}),
          ...(view.users.length ? { user: view.users } : {}),
          ...(view.status !== 'all' ? { ready: view.status === 'published' } : {}),
        },
        { signal },
      );
      return { items: res.models, scrollId: res.scroll_id };
    },
    MODELS_PAGE_SIZE,
    listKey,
  );

  const projectFilter = allProjects ? undefined : [projectId];
  const tagOptions = useQuery((signal) => call(projects.get_model_tags, { projects: projectFilter }, { signal }).then((r) => r.tags.map((t) => ({ value: t, label: t }))), [projectId]);
  const frameworkOptions = useQuery(
    (signal) => call(models.get_frameworks, { projects: projectFilter }, { signal }).then((r) => r.frameworks.map((f) => ({ value: f, label: f }))),
    [projectId],
  );
  const userOptions = useQuery(
    (signal) => call(users.get_all_ex, { only_fields: ['id', 'name'] }, { signal }).then((r) => r.users.map((u) => ({ value: u.id, label: u.name ?? u.id }))),
    [],
  );

  const [selected, setSelected] = useState<Set<string>>(new Set());
  const visibleSelected = list.items.filter((m) => selected.has(m.id));
  const allChecked = list.items.length > 0 && visibleSelected.length === list.items.length;
  const toggle = (id: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const action = useAction();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [moving, setMoving] = useState(false);
  const ids = visibleSelected.map((m) => m.id);
  const afterBatch = (failed: Parameters<typeof batchFailureText>[0], verb: string) => {
    const text = batchFailureText(failed, verb);
    setSelected(new Set());
    list.reload();
    if (text) throw new Error(text);
  };

  const sortHeader = (field: string, title: string) => {
    const active = view.sort === field || view.sort === `-${field}`;
    const desc = view.sort === `-${field}`;
    return (
      <th scope="col" aria-sort={active ? (desc ? 'descending' : 'ascending') : 'none'}>
        <button type="button" className="sort" onClick={() => setView({ sort: active && !desc ? `-${field}` : field })}>
          {title}
          <span aria-hidden="true">{active ? (desc ? ' ▼' : ' ▲') : ''}</span>
        </button>
      </th>
    );
  };

  return (
    <section aria-labelledby="page-title">
      <ProjectHeader projectId={projectId} current="models" />
      <div className="toolbar" role="search">
        <SearchBox label="Search models" placeholder="Search by name, id or description" value={view.search} onCommit={onSearch} />
        <FilterMenu label="Tags" options={tagOptions.data} selected={view.tags} onChange={(tags) => setView({ tags })} emptyText="No tags yet" />
        <FilterMenu label="Framework" options={frameworkOptions.data} selected={view.frameworks} onChange={(frameworks) => setView({ frameworks })} />
        <FilterMenu label="User" options={userOptions.data} selected={view.users} onChange={(u) => setView({ users: u })} />
        <label className="inline">
          Status
          <select value={view.status} onChange={(e) => setView({ status: e.target.value })}>
            <option value="all">All</option>
            <option value="published">Published</option>
            <option value="draft">Draft</option>
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={view.archived} onChange={(e) => setView({ archived: e.target.checked })} />
          Archive
        </label>
        <ColumnChooser projectId={allProjects ? undefined : projectId} cols={view.cols} variants={variants.data} onChange={(cols) => setView({ cols })} />
      </div>
      <div className="selection-bar" aria-live="polite">
        {ids.length > 0 ? (
          <>
            <span>{ids.length} selected</span>
            <button type="button" disabled={action.busy} onClick={() => action.run(async () => afterBatch((await call(models.publish_many, { ids })).failed, 'publish'))}>
              Publish
            </button>
            {view.archived ? (
              <button type="button" disabled={action.busy} onClick={() => action.run(async () => afterBatch((await call(models.unarchive_many, { ids })).failed, 'restore'))}>
                Restore
              </button>
            ) : (
              <button type="button" disabled={action.busy} onClick={() => action.run(async () => afterBatch((await call(models.archive_many, { ids })).failed, 'archive'))}>
                Archive
              </button>
            )}
            <button type="button" disabled={action.busy} onClick={() => setMoving(true)}>
              Move to project…
            </button>
            <button type="button" className="danger" disabled={action.busy} onClick={() => setConfirmDelete(true)}>
              Delete…
            </button>
          </>
        ) : (
          <span className="muted">{list.items.length ? `${list.items.length}${list.done ? '' : '+'} models` : ''}</span>
        )}
      </div>
      <ErrorBox error={action.error} />
      <div className="table-wrap">
        <table className="grid models-table">
          <thead>
            <tr>
              <th scope="col" className="select">
                <input
                  type="checkbox"
                  aria-label="Select all shown models"
                  checked={allChecked}
                  onChange={() => setSelected(allChecked ? new Set() : new Set(list.items.map((m) => m.id)))}
                />
              </th>
              {sortHeader('id', 'ID')}
              {sortHeader('framework', 'Framework')}
              {sortHeader('name', 'Name')}
              <th scope="col">Tags</th>
              {sortHeader('ready', 'Status')}
              <th scope="col">Project</th>
              <th scope="col">User</th>
              <th scope="col">Task</th>
              {sortHeader('last_update', 'Updated')}
              {sortHeader('comment', 'Description')}
              {columns.map((c) => (
                <Fragment key={c.id}>{sortHeader(c.field, c.title)}</Fragment>
              ))}
            </tr>
          </thead>
          <tbody>
            {list.items.map((m) => {
              const pid = refId(m.project) ?? '*';
              const taskId = refId(m.task);
              return (
                <tr key={m.id} data-model-id={m.id} className={selected.has(m.id) ? 'selected' : undefined}>
                  <td className="select">
                    <input type="checkbox" aria-label={`Select ${m.name ?? m.id}`} checked={selected.has(m.id)} onChange={() => toggle(m.id)} />
                  </td>
                  <td className="mono" title={m.id}>
                    {m.id.slice(0, 8)}
                  </td>
                  <td data-col="framework">{m.framework}</td>
                  <td data-col="name">
                    <Link to={`/projects/${pid}/models/${m.id}/general`}>{m.name || m.id}</Link>
                  </td>
                  <td data-col="tags">
                    <Tags tags={m.tags} />
                  </td>
                  <td data-col="status">
                    <StatusBadge ready={m.ready} />
                  </td>
                  <td data-col="project">{refId(m.project) && <Link to={`/projects/${pid}/models`}>{refField(m.project, 'name') ?? pid}</Link>}</td>
                  <td data-col="user">{refField(m.user, 'name') ?? refId(m.user)}</td>
                  <td data-col="task">{taskId && <Link to={`/projects/${pid}/tasks/${taskId}/general`}>{refField(m.task, 'name') ?? taskId}</Link>}</td>
                  <td data-col="updated" className="nowrap">
                    {formatDate(m.last_update)}
                  </td>
                  <td data-col="description" className="clip" title={m.comment ?? undefined}>
                    {m.comment}
                  </td>
                  {columns.map((c) => (
                    <td key={c.id} data-col={c.id} className="num">
                      {c.value(m)}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
        <ScrollListFooter list={list} noun="models" />
      </div>
      <ConfirmDialog
        title="Delete models"
        open={confirmDelete}
        danger
        busy={action.busy}
        message={<p>Delete {ids.length} selected model(s) and their weights files? This cannot be undone.</p>}
        confirmLabel="Delete"
        onConfirm={async () => {
          setConfirmDelete(false);
          await action.run(async () => afterBatch((await call(models.delete_many, { ids, force: true })).failed, 'delete'));
        }}
        onClose={() => setConfirmDelete(false)}
      />
      {moving && (
        <MoveDialog
          count={ids.length}
          onClose={() => setMoving(false)}
          onMove={async (target) => {
            await call(models.move, { ids, ...target });
            setSelected(new Set());
            list.reload();
          }}
        />
      )}
    </section>
  );
}

function ColumnChooser(props: {
  projectId: string | undefined;
  cols: string[];
  variants: MetricVariant[] | undefined;
  onChange: (cols: string[]) => void;
}) {
  const keys = useQuery(
    async (signal) =>
      props.projectId ? (await call(projects.get_model_metadata_keys, { project: props.projectId, include_subprojects: false }, { signal })).keys : [],
    [props.projectId],
  );
  const [key, setKey] = useState('');
  const options: FilterOption[] = [
    ...(keys.data ?? []).map((k) => ({ label: `Metadata: ${k}`, value: `meta:${k}` })),
    ...(props.variants ?? []).map((v) => ({ label: `Metric: ${v.metric} / ${v.variant}`, value: `metric:${v.metric_hash}.${v.variant_hash}` })),
  ];
  for (const col of props.cols) if (!options.some((o) => o.value === col)) options.push({ value: col, label: col.startsWith('meta:') ? `Metadata: ${col.slice(5)}` : col });
  return (
    <FilterMenu label="Columns" options={options} selected={props.cols} onChange={props.onChange} emptyText="No metadata or metrics yet">
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const k = key.trim();
          if (k && !props.cols.includes(`meta:${k}`)) props.onChange([...props.cols, `meta:${k}`]);
          setKey('');
        }}
      >
        <label>
          Metadata key
          <input value={key} onChange={(e) => setKey(e.target.value)} />
        </label>
        <button type="submit">Add column</button>
      </form>
    </FilterMenu>
  );
}
