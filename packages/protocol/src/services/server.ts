import { z } from 'zod';
import { op } from '../operation.js';

export const server = {
  info: op({
    endpoint: 'server.info',
    summary: 'Server version information. Needs no credentials.',
    auth: 'none',
    request: z.object({}),
    response: z.object({
      version: z.string(),
      build: z.string(),
      commit: z.string(),
      uid: z.string().optional(),
      api_version: z.string(),
      cairn_version: z.string().optional(),
    }),
  }),
  report_stats_option: op({
    endpoint: 'server.report_stats_option',
    summary: 'Anonymous usage statistics: Cairn never sends any.',
    request: z.object({ enabled: z.boolean().nullish() }),
    response: z.object({
      supported: z.boolean(),
      enabled: z.boolean(),
      enabled_time: z.string().nullish(),
      enabled_version: z.string().nullish(),
      enabled_user: z.string().nullish(),
      current_version: z.string(),
    }),
  }),
};
