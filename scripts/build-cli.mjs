#!/usr/bin/env node
// Compiles the `cairn` command ahead of time into packages/cli/dist, or the folder given (what `npm start` runs). Compiling the
// TypeScript at every start through tsx costs about half a second and 50 MB of resident memory (bench P5):
// its loader thread has its own heap and every module crosses to it. Cairn's own packages are bundled; npm
// packages stay external and load from node_modules. Each command stays its own chunk, loaded when it runs.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
export const CLI_DIST = path.join(root, 'packages/cli/dist');

/** Builds the CLI into `outdir` and returns the path of its entry point. */
export async function buildCli(outdir = CLI_DIST) {
  // Chunk names carry content hashes: without this, every build would leave the previous chunks behind.
  rmSync(outdir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [path.join(root, 'packages/cli/src/main.ts')],
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir,
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [
      {
        name: 'npm-packages-external',
        setup(build) {
          build.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@cairn/') ? undefined : { path: args.path, external: true }));
        },
      },
    ],
  });
  return path.join(outdir, 'main.js');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await buildCli(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
