import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { SessionProvider } from './session/Session';
import { App } from './App';
import { loadPlotly } from './lib/plotly';
import './styles.css';

// A page opened on charts starts loading plotly (the largest script, ~0.5 s to compile) now, while the session
// and the data are fetched, instead of after them.
if (/\/(scalars|plots)\/?$/.test(window.location.pathname)) void loadPlotly('cartesian').catch(() => undefined);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <BrowserRouter>
      <SessionProvider>
        <App />
      </SessionProvider>
    </BrowserRouter>
  </StrictMode>,
);
