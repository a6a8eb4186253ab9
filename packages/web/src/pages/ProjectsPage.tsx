import { useMemo, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { projects, type Project, type ResponseOf } from '@cairn/protocol';
import { ApiError, call } from '../api/client';
import { useAction, useQuery, useTitle } from '../lib/useApi';
import { ConfirmDialog, Dialog, ErrorBox, Loading } from '../components/ui';

/** Projects are read in scroll pages of this size (the server's page cap). */
const PROJECT_PAGE = 500;
/** The tree shows at most this many projects; a registry has tens or hundreds. */
const MAX_PROJECTS = 10_000;

interface TreeRow {
  project: Project;
  depth: number;
  /** Models and tasks in this project and every project below it. */
  totalModels: number;
  totalTasks: number;
  children: number;
}

export async function loadAllProjects(signal?: AbortSignal, withCounts = false): Promise<Project[]> {
  const out: Project[] = [];
  let scrollId: string | null = null;
  for (;;) {
    const res: ResponseOf<typeof projects.get_all_ex> = await call(
      projects.get_all_ex,
      {
        only_fields: ['id', 'name', 'basename', 'parent', 'last_update'],
        order_by: ['name'],
        scroll_id: scrollId,
        size: PROJECT_PAGE,
        ...(withCounts ? { check_own_contents: true } : {}),
      },
      { signal },
    );
    out.push(...res.projects);
    scrollId = res.scroll_id ?? null;
    if (res.projects.length < PROJECT_PAGE || !scrollId || out.length >= MAX_PROJECTS) return out;
  }
}

/** Orders projects as a tree (by full name, parents before children) and adds subtree totals. */
function buildTree(list: Project[]): TreeRow[] {
  const sorted = [...list].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
  const rows: TreeRow[] = sorted.map((project) => ({
    project,
    depth: (project.name ?? '').split('/').length - 1,
    totalModels: project.own_models ?? 0,
    totalTasks: project.own_tasks ?? 0,
    children: 0,
  }));
  const byName = new Map(rows.map((r) => [r.project.name ?? '', r]));
  for (const row of rows) {
    const parts = (row.project.name ?? '').split('/');
    const parent = byName.get(parts.slice(0, -1).join('/'));
    if (parent) parent.children++;
    for (let i = parts.length - 1; i > 0; i--) {
      const ancestor = byName.get(parts.slice(0, i).join('/'));
      if (ancestor) {
        ancestor.totalModels += row.project.own_models ?? 0;
        ancestor.totalTasks += row.project.own_tasks ?? 0;
      }
    }
  }
  return rows;
}

function basename(project: Project): string {
  return project.basename ?? (project.name ?? '').split('/').pop() ?? '';
}

function countText(own: number, total: number): string {
  return total > own ? `${own} (${total} with sub-projects)` : String(own);
}

export function ProjectsPage() {
  const query = useQuery((signal) => loadAllProjects(signal, true), []);
  useTitle('Projects');
  const rows = useMemo(() => buildTree(query.data ?? []), [query.data]);
  const [creating, setCreating] = useState<string | null>(null);
  const [renaming, setRenaming] = useState<Project | null>(null);
  const [deleting, setDeleting] = useState<Project | null>(null);

  return (
    <section aria-labelledby="projects-title">
      <div className="page-head">
        <h1 id="projects-title">Projects</h1>
        <div className="actions">
          <Link className="button" to="/projects/*/models">
            All models
          </Link>
          <Link className="button" to="/projects/*/tasks">
            All tasks
          </Link>
          <button type="button" className="primary" onClick={() => setCreating('')}>
            New project
          </button>
        </div>
      </div>
      {query.loading && !query.data && <Loading />}
      <ErrorBox error={query.error} onRetry={query.reload} />
      {query.data && rows.length === 0 && <p className="empty">No projects yet. Create one, or run a training script with the SDK.</p>}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="grid projects-table">
            <thead>
              <tr>
                <th scope="col">Project</th>
                <th scope="col">Models</th>
                <th scope="col">Tasks</th>
                <th scope="col">Sub-projects</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.project.id} data-project-id={row.project.id}>
                  <td style={{ paddingLeft: `${0.75 + row.depth * 1.5}rem` }}>
                    <Link to={`/projects/${row.project.id}/models`} className="project-name" title={row.project.name}>
                      {basename(row.project)}
                    </Link>
                  </td>
                  <td className="num" data-col="models">
                    <Link to={`/projects/${row.project.id}/models`}>{countText(row.project.own_models ?? 0, row.totalModels)}</Link>
                  </td>
                  <td className="num" data-col="tasks">
                    <Link to={`/projects/${row.project.id}/tasks`}>{countText(row.project.own_tasks ?? 0, row.totalTasks)}</Link>
                  </td>
                  <td className="num">{row.children}</td>
                  <td>
                    <div className="row-actions">
                      <button type="button" onClick={() => setCreating(`${row.project.name}/`)} aria-label={`Add sub-project to ${row.project.name}`}>
                        Add sub-project
                      </button>
                      <button type="button" onClick={() => setRenaming(row.project)} aria-label={`Rename ${row.project.name}`}>
                        Rename
                      </button>
                      <button type="button" className="danger" onClick={() => setDeleting(row.project)} aria-label={`Delete ${row.project.name}`}>
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {creating !== null && <CreateProjectDialog prefix={creating} onClose={() => setCreating(null)} onDone={query.reload} />}
      {renaming && <RenameProjectDialog project={renaming} onClose={() => setRenaming(null)} onDone={query.reload} />}
      {deleting && <DeleteProjectDialog project={deleting} onClose={() => setDeleting(null)} onDone={query.reload} />}
    </section>
  );
}

function CreateProjectDialog({ prefix, onClose, onDone }: { prefix: string; onClose: () => void; onDone: () => void }) {
  const [name, setName] = useState(prefix);
  const [description, setDescription] = useState('');
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const ok = await action.run(() => call(projects.create, { name: name.trim(), description: description || undefined }));
    if (ok) {
      onDone();
      onClose();
    }
  };
  return (
    <Dialog title="New project" open onClose={onClose}>
      <form onSubmit={submit} className="form">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required minLength={3} autoFocus aria-describedby="project-name-help" />
        </label>
        <p id="project-name-help" className="muted small">
          Use <code>parent/child</code> to create a sub-project; missing parents are created.
        </p>
        <label>
          Description
          <textarea value={description} onChange={(e) => setDescription(e.target.value)} rows={3} />
        </label>
        <ErrorBox error={action.error} />
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={action.busy}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function RenameProjectDialog({ project, onClose, onDone }: { project: Project; onClose: () => void; onDone: () => void }) {
  const [name, setName] = useState(basename(project));
  const action = useAction();
  const parentPath = (project.name ?? '').split('/').slice(0, -1).join('/');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const full = parentPath ? `${parentPath}/${name.trim()}` : name.trim();
    const ok = await action.run(() => call(projects.update, { project: project.id, name: full }));
    if (ok) {
      onDone();
      onClose();
    }
  };
  return (
    <Dialog title={`Rename project`} open onClose={onClose}>
      <form onSubmit={submit} className="form">
        {parentPath && <p className="muted">In {parentPath}/</p>}
        <label>
          New name
          <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus pattern={'[^\\/]+'} title="A name without '/'" />
        </label>
        <ErrorBox error={action.error} />
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={action.busy}>
            Rename
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteProjectDialog({ project, onClose, onDone }: { project: Project; onClose: () => void; onDone: () => void }) {
  const action = useAction();
  const [needsForce, setNeedsForce] = useState<string>();
  const remove = async () => {
    let refused: string | undefined;
    const ok = await action.run(async () => {
      try {
        await call(projects.delete, needsForce ? { project: project.id, force: true, delete_contents: true } : { project: project.id });
      } catch (err) {
        // Not empty: ask again before deleting what is inside.
        if (!needsForce && err instanceof ApiError && err.code === 400 && [402, 405, 406].includes(err.subcode)) refused = err.message;
        else throw err;
      }
    });
    if (refused) setNeedsForce(refused);
    else if (ok) {
      onDone();
      onClose();
    }
  };
  return (
    <ConfirmDialog
      title="Delete project"
      open
      danger
      busy={action.busy}
      error={action.error}
      confirmLabel={needsForce ? 'Delete project and contents' : 'Delete'}
      message={
        needsForce ? (
          <>
            <p>
              <strong>{project.name}</strong> is not empty: {needsForce}
            </p>
            <p>Delete it together with its sub-projects, tasks and models?</p>
          </>
        ) : (
          <p>
            Delete the project <strong>{project.name}</strong>?
          </p>
        )
      }
      onConfirm={remove}
      onClose={onClose}
    />
  );
}
