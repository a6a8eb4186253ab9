import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const require = createRequire(import.meta.url);

/**
 * plotly.js is served as its own pre-minified file instead of being bundled: bundling it makes the
 * build ~10x slower and heavier, and the app loads it only when a chart is shown.
 */
function plotlyAsset(): Plugin {
  const source = require.resolve('plotly.js-dist-min/plotly.min.js');
  const version = (JSON.parse(readFileSync(path.join(path.dirname(source), 'package.json'), 'utf8')) as { version: string }).version;
  const fileName = `plotly-${version}.min.js`;
  return {
    name: 'cairn-plotly-asset',
    config: () => ({ define: { __PLOTLY_URL__: JSON.stringify(`/${fileName}`) } }),
    configureServer(server) {
      server.middlewares.use(`/${fileName}`, (_req, res) => {
        res.setHeader('content-type', 'text/javascript');
        createReadStream(source).pipe(res);
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName, source: readFileSync(source) });
    },
  };
}

/** `npm run dev` talks to a Cairn server started separately (default: the one on port 8080). */
const devServer = process.env.CAIRN_DEV_SERVER ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react(), plotlyAsset()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  server: { proxy: { '/api': devServer, '/files': devServer } },
});
