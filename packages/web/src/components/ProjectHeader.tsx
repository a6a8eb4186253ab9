import { Link, NavLink } from 'react-router-dom';
import { projects } from '@cairn/protocol';
import { call } from '../api/client';
import { useQuery, useTitle } from '../lib/useApi';
import { ErrorBox } from './ui';

/** Title, breadcrumbs and the Models/Tasks switch of a project (or of all projects: id `*`). */
export function ProjectHeader({ projectId, current }: { projectId: string; current: 'models' | 'tasks' }) {
  const project = useQuery(
    async (signal) => (projectId === '*' ? undefined : (await call(projects.get_by_id, { project: projectId }, { signal })).project),
    [projectId],
  );
  const name = projectId === '*' ? 'All projects' : (project.data?.name ?? '');
  const parts = name.split('/');
  useTitle(name ? `${name} · ${current === 'models' ? 'Models' : 'Tasks'}` : undefined);
  return (
    <div className="page-head">
      <div>
        <nav aria-label="Breadcrumb" className="breadcrumb">
          <Link to="/projects">Projects</Link>
          {projectId !== '*' && parts.length > 1 && <span> / {parts.slice(0, -1).join(' / ')}</span>}
        </nav>
        <h1 id="page-title">
          {projectId === '*' ? 'All projects' : parts[parts.length - 1]}
          <span className="muted"> · {current === 'models' ? 'Models' : 'Tasks'}</span>
        </h1>
        <ErrorBox error={project.error} onRetry={project.reload} />
      </div>
      <nav className="tabs" aria-label="Project views">
        <NavLink to={`/projects/${projectId}/models`}>Models</NavLink>
        <NavLink to={`/projects/${projectId}/tasks`}>Tasks</NavLink>
      </nav>
    </div>
  );
}
