import { z } from 'zod';
import { op } from '../operation.js';
import { AnyObject, DateTime, ListQuery } from '../common.js';

export const User = z.object({
  id: z.string(),
  name: z.string().optional(),
  given_name: z.string().nullish(),
  family_name: z.string().nullish(),
  avatar: z.string().nullish(),
  company: z.union([z.string(), z.object({ id: z.string(), name: z.string().optional() })]).optional(),
  role: z.string().optional(),
  email: z.string().nullish(),
  created: DateTime.nullish(),
  preferences: AnyObject.optional(),
});
export type User = z.infer<typeof User>;

export const users = {
  get_current_user: op({
    endpoint: 'users.get_current_user',
    summary: 'The calling user, with the company and UI settings.',
    request: z.object({}),
    response: z.object({
      user: User,
      getting_started: z.object({ agentName: z.string(), configure: z.string(), install: z.string(), packageName: z.string() }),
      settings: z.object({ max_download_items: z.number() }),
    }),
  }),
  get_all_ex: op({
    endpoint: 'users.get_all_ex',
    summary: "Users of the caller's company (for the web app's user filters).",
    request: ListQuery.extend({ name: z.string().nullish(), active_in_projects: z.array(z.string()).nullish() }),
    response: z.object({ users: z.array(User) }),
  }),
  get_all: op({
    endpoint: 'users.get_all',
    summary: "Users of the caller's company.",
    request: ListQuery.extend({ name: z.string().nullish() }),
    response: z.object({ users: z.array(User) }),
  }),
  get_preferences: op({
    endpoint: 'users.get_preferences',
    summary: "The caller's stored UI preferences.",
    request: z.object({}),
    response: z.object({ preferences: AnyObject }),
  }),
  set_preferences: op({
    endpoint: 'users.set_preferences',
    summary: "Merge into the caller's UI preferences.",
    request: z.object({ preferences: AnyObject }),
    response: z.object({ updated: z.number().int(), fields: AnyObject.optional() }),
  }),
};
