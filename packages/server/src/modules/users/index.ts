import { getCurrentUser } from './current-user.js';
import { getAllUsers, getAllUsersEx } from './get-all.js';
import { getPreferences, setPreferences } from './preferences.js';

export const usersHandlers = [getCurrentUser, getAllUsers, getAllUsersEx, getPreferences, setPreferences];
