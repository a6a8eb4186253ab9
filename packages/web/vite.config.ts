import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const require = createRequire(import.meta.url);

/** plotly's two pre-minified files: the cartesian bundle (2D traces) and the full one (see src/lib/plotly.ts). */
const PLOTLY_FILES = {
  cartesian: { module: 'plotly.js-cartesian-dist-min/plotly-cartesian.min.js', prefix: 'plotly-cartesian' },
  full: { module: 'plotly.js-dist-min/plotly.min.js', prefix: 'plotly' },
} as const;

/**
 * plotly.js is served as its own pre-minified files instead of being bundled: bundling it makes the
 * build ~10x slower and heavier, and the app loads it only when a chart is shown. Each file name carries its
 * version, so the server can let browsers keep it.
 */
function plotlyAssets(): Plugin {
  const files = Object.entries(PLOTLY_FILES).map(([bundle, { module, prefix }]) => {
    const source = require.resolve(module);
    const version = (JSON.parse(readFileSync(path.join(path.dirname(source), 'package.json'), 'utf8')) as { version: string }).version;
    return { bundle, source, fileName: `${prefix}-${version}.min.js` };
  });
  return {
    name: 'cairn-plotly-assets',
    config: () => ({ define: { __PLOTLY_URLS__: JSON.stringify(Object.fromEntries(files.map((f) => [f.bundle, `/${f.fileName}`]))) } }),
    configureServer(server) {
      for (const { source, fileName } of files) {
        server.middlewares.use(`/${fileName}`, (_req, res) => {
          res.setHeader('content-type', 'text/javascript');
          createReadStream(source).pipe(res);
        });
      }
    },
    generateBundle() {
      for (const { source, fileName } of files) this.emitFile({ type: 'asset', fileName, source: readFileSync(source) });
    },
  };
}

/** `npm run dev` talks to a Cairn server started separately (default: the one on port 8080). */
const devServer = process.env.CAIRN_DEV_SERVER ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react(), plotlyAssets()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  server: { proxy: { '/api': devServer, '/files': devServer } },
});
