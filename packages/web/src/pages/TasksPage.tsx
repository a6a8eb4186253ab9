import { useCallback, useMemo } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { TASK_STATUSES, TASK_TYPES, tasks, type Task } from '@cairn/protocol';
import { call } from '../api/client';
import { escapeRegex, formatDate, refField, refId } from '../lib/format';
import { useScrollList } from '../lib/useScrollList';
import { ScrollListFooter } from '../components/ScrollListFooter';
import { TaskStatusBadge, Tags } from '../components/ui';
import { FilterMenu } from '../components/FilterMenu';
import { ProjectHeader } from '../components/ProjectHeader';
import { SearchBox } from '../components/SearchBox';

/** Rows per scroll page. */
const TASKS_PAGE_SIZE = 50;
const FIELDS = ['id', 'name', 'type', 'status', 'tags', 'project.name', 'user.name', 'started', 'completed', 'last_update'];
const SEARCH_FIELDS = ['id', 'name', 'comment'];

export function TasksPage() {
  const { projectId = '*' } = useParams();
  const allProjects = projectId === '*';
  const [params, setParams] = useSearchParams();
  const search = params.get('q') ?? '';
  const sort = params.get('sort') ?? '-last_update';
  const statuses = params.getAll('status');
  const types = params.getAll('type');
  const archived = params.get('archived') === '1';
  const set = useCallback(
    (name: string, values: string[] | string | null) => {
      const next = new URLSearchParams(params);
      next.delete(name);
      for (const v of Array.isArray(values) ? values : values ? [values] : []) next.append(name, v);
      setParams(next, { replace: true });
    },
    [params, setParams],
  );
  const onSearch = useCallback((text: string) => set('q', text || null), [set]);

  const key = JSON.stringify([projectId, search, sort, statuses, types, archived]);
  const list = useScrollList<Task>(
    async (scrollId, signal) => {
      const res = await call(
        tasks.get_all_ex,
        {
          only_fields: FIELDS,
          order_by: [sort],
          scroll_id: scrollId,
          size: TASKS_PAGE_SIZE,
          system_tags: [archived ? 'archived' : '-archived'],
          ...(allProjects ? {} : { project: [projectId] }),
          ...(search ? { _any_: { pattern: escapeRegex(search), fields: SEARCH_FIELDS } } : {}),
          ...(statuses.length ? { status: statuses } : {}),
          ...(types.length ? { type: types } : {}),
        },
        { signal },
      );
      return { items: res.tasks, scrollId: res.scroll_id };
    },
    TASKS_PAGE_SIZE,
    key,
  );
  const statusOptions = useMemo(() => TASK_STATUSES.map((s) => ({ value: s, label: s.replace('_', ' ') })), []);
  const typeOptions = useMemo(() => TASK_TYPES.map((t) => ({ value: t, label: t.replace('_', ' ') })), []);

  const sortHeader = (field: string, title: string) => {
    const active = sort === field || sort === `-${field}`;
    const desc = sort === `-${field}`;
    return (
      <th scope="col" aria-sort={active ? (desc ? 'descending' : 'ascending') : 'none'}>
        <button type="button" className="sort" onClick={() => set('sort', active && !desc ? `-${field}` : field)}>
          {title}
          <span aria-hidden="true">{active ? (desc ? ' ▼' : ' ▲') : ''}</span>
        </button>
      </th>
    );
  };

  return (
    <section aria-labelledby="page-title">
      <ProjectHeader projectId={projectId} current="tasks" />
      <div className="toolbar" role="search">
        <SearchBox label="Search tasks" placeholder="Search by name, id or description" value={search} onCommit={onSearch} />
        <FilterMenu label="Status" options={statusOptions} selected={statuses} onChange={(v) => set('status', v)} />
        <FilterMenu label="Type" options={typeOptions} selected={types} onChange={(v) => set('type', v)} />
        <label className="check">
          <input type="checkbox" checked={archived} onChange={(e) => set('archived', e.target.checked ? '1' : null)} />
          Archive
        </label>
      </div>
      <div className="table-wrap">
        <table className="grid tasks-table">
          <thead>
            <tr>
              {sortHeader('id', 'ID')}
              {sortHeader('type', 'Type')}
              {sortHeader('name', 'Name')}
              <th scope="col">Tags</th>
              {sortHeader('status', 'Status')}
              <th scope="col">Project</th>
              <th scope="col">User</th>
              {sortHeader('started', 'Started')}
              {sortHeader('completed', 'Completed')}
              {sortHeader('last_update', 'Updated')}
            </tr>
          </thead>
          <tbody>
            {list.items.map((t) => {
              const pid = refId(t.project) ?? '*';
              return (
                <tr key={t.id} data-task-id={t.id}>
                  <td className="mono" title={t.id}>
                    {t.id.slice(0, 8)}
                  </td>
                  <td data-col="type">{t.type}</td>
                  <td data-col="name">
                    <Link to={`/projects/${pid}/tasks/${t.id}/general`}>{t.name || t.id}</Link>
                  </td>
                  <td>
                    <Tags tags={t.tags} />
                  </td>
                  <td data-col="status">
                    <TaskStatusBadge status={t.status} />
                  </td>
                  <td data-col="project">{refId(t.project) && <Link to={`/projects/${pid}/tasks`}>{refField(t.project, 'name') ?? pid}</Link>}</td>
                  <td data-col="user">{refField(t.user, 'name')}</td>
                  <td className="nowrap">{formatDate(t.started)}</td>
                  <td className="nowrap">{formatDate(t.completed)}</td>
                  <td className="nowrap">{formatDate(t.last_update)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <ScrollListFooter list={list} noun="tasks" />
      </div>
    </section>
  );
}
