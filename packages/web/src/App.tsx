import { Navigate, NavLink, Route, Routes, useLocation } from 'react-router-dom';
import { useSession } from './session/Session';
import { LoginPage } from './pages/LoginPage';
import { ProjectsPage } from './pages/ProjectsPage';
import { ModelsPage } from './pages/ModelsPage';
import { ModelPage } from './pages/model/ModelPage';
import { TasksPage } from './pages/TasksPage';
import { TaskPage } from './pages/task/TaskPage';
import { QueuesPage } from './pages/QueuesPage';
import { Loading } from './components/ui';

function Shell() {
  const { user, logout } = useSession();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/projects" className="brand">
          Cairn
        </NavLink>
        <nav aria-label="Main">
          <NavLink to="/projects" end>
            Projects
          </NavLink>
          <NavLink to="/projects/*/models">Models</NavLink>
          <NavLink to="/projects/*/tasks">Tasks</NavLink>
          <NavLink to="/queues">Queues</NavLink>
        </nav>
        <div className="user">
          <span className="muted" data-testid="current-user">
            {user?.name}
          </span>
          <button type="button" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Routes>
          <Route path="/" element={<Navigate to="/projects" replace />} />
          <Route path="/projects" element={<ProjectsPage />} />
          <Route path="/projects/:projectId" element={<ProjectRedirect />} />
          <Route path="/projects/:projectId/models" element={<ModelsPage />} />
          <Route path="/projects/:projectId/models/:modelId" element={<ModelPage />} />
          <Route path="/projects/:projectId/models/:modelId/:tab" element={<ModelPage />} />
          <Route path="/projects/:projectId/tasks" element={<TasksPage />} />
          <Route path="/projects/:projectId/tasks/:taskId" element={<TaskPage />} />
          <Route path="/projects/:projectId/tasks/:taskId/:tab" element={<TaskPage />} />
          <Route path="/queues" element={<QueuesPage />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </div>
  );
}

function ProjectRedirect() {
  const location = useLocation();
  return <Navigate to={`${location.pathname.replace(/\/$/, '')}/models`} replace />;
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <NavLink to="/projects">Go to the projects</NavLink>
      </p>
    </section>
  );
}

export function App() {
  const { user } = useSession();
  const location = useLocation();
  if (user === undefined) return <Loading label="Starting…" />;
  // After signing in, back to the page that asked for it.
  const from = (location.state as { from?: string } | null)?.from ?? '/projects';
  if (location.pathname === '/login') return user ? <Navigate to={from} replace /> : <LoginPage />;
  if (!user) return <Navigate to="/login" replace state={{ from: `${location.pathname}${location.search}` }} />;
  return <Shell />;
}
