import { projects } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { conformTags } from '../models/common.js';
import { ensureProject, insertProject, splitProjectName } from './tree.js';

/** projects.create: `a/b/c` creates the missing parents; a duplicate name is 400/801. */
export const createProject = defineHandler(projects.create, async (ctx, req) => {
  const { name, location } = splitProjectName(req.name);
  const tags = conformTags('tags', req.tags ?? []);
  const systemTags = conformTags('system_tags', req.system_tags ?? []);
  const project = await ctx.db.transaction(async (db) => {
    const parent = location ? await ensureProject(ctx, db, location) : undefined;
    return insertProject(ctx, db, name, parent, {
      description: req.description ?? '',
      tags,
      system_tags: systemTags,
      default_output_destination: req.default_output_destination ?? null,
    });
  });
  return { id: project.id };
});
