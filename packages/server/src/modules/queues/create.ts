import { queues } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { storedMetadata } from '../models/common.js';
import { createQueue } from './store.js';

/** queues.create: a new queue; names are unique per company (400/801). */
export const createQueueHandler = defineHandler(queues.create, async (ctx, req) => {
  const queue = await createQueue(ctx, {
    name: req.name,
    displayName: req.display_name,
    tags: req.tags ?? [],
    systemTags: req.system_tags ?? [],
    metadata: req.metadata ? storedMetadata(req.metadata) : {},
  });
  return { id: queue.id };
});
