/**
 * The working copy a task runs in: a fresh copy of the working directory its script recorded, under the agent's
 * work folder. The package the directory belongs to is the environment, not the code: `node_modules` folders are
 * not copied; the nearest `node_modules` at or above the recorded directory is linked into the copy, and when the
 * directory has no `package.json` of its own the nearest one above it is copied in, so that imports resolve and
 * files load as modules (its `type`) as they did where the task was recorded.
 */
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';

/** Folders that are environment or history rather than code. */
const NOT_COPIED = new Set(['node_modules', '.git']);

/** The nearest `name` at or above `dir`. */
function nearest(dir: string, name: string): string | undefined {
  for (let at = dir; ; at = path.dirname(at)) {
    const candidate = path.join(at, name);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(at) === at) return undefined;
  }
}

/** Copies `workingDir` to `<workdir>/<taskId>` (replacing an older copy) and returns the copy's path. */
export async function prepareWorkingCopy(workingDir: string, workdir: string, taskId: string): Promise<string> {
  if (!workingDir || !path.isAbsolute(workingDir)) throw new Error(`the task records no absolute working directory (script.working_dir is "${workingDir}")`);
  if (!existsSync(workingDir)) throw new Error(`the task's working directory ${workingDir} does not exist on this machine`);
  const target = path.join(path.resolve(workdir), taskId);
  await rm(target, { recursive: true, force: true });
  await mkdir(path.dirname(target), { recursive: true });
  await cp(workingDir, target, { recursive: true, verbatimSymlinks: true, filter: (src) => src === workingDir || !NOT_COPIED.has(path.basename(src)) });
  const modules = nearest(workingDir, 'node_modules');
  if (modules) await symlink(modules, path.join(target, 'node_modules'), 'dir');
  const manifest = nearest(workingDir, 'package.json');
  if (manifest && !existsSync(path.join(target, 'package.json'))) await copyFile(manifest, path.join(target, 'package.json'));
  return target;
}

export async function removeWorkingCopy(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
