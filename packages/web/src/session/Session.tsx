import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { auth, users, type User } from '@cairn/protocol';
import { ApiError, call, onUnauthorized } from '../api/client';

interface SessionValue {
  /** undefined while checking, null when logged out. */
  user: User | null | undefined;
  login: (name: string, secret: string) => Promise<void>;
  logout: () => Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

/** UTF-8 safe base64 for the Basic header (names and passwords may hold any character). */
function basic(name: string, secret: string): string {
  const bytes = new TextEncoder().encode(`${name}:${secret}`);
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return `Basic ${btoa(text)}`;
}

/**
 * The session is the `clearml_token_basic` cookie that `auth.login` sets (HttpOnly, so the app never
 * sees the token). Who is logged in is asked from the server.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);

  const loadUser = useCallback(async () => {
    try {
      const res = await call(users.get_current_user, {}, { quiet401: true });
      setUser(res.user);
    } catch (err) {
      if (err instanceof ApiError && err.code === 401) setUser(null);
      else throw err;
    }
  }, []);

  useEffect(() => {
    loadUser().catch(() => setUser(null));
    return onUnauthorized(() => setUser(null));
  }, [loadUser]);

  const login = useCallback(
    async (name: string, secret: string) => {
      // A user name and password, or an access key and secret key: both go as Basic credentials.
      await call(auth.login, {}, { headers: { authorization: basic(name, secret) }, quiet401: true });
      await loadUser();
    },
    [loadUser],
  );

  const logout = useCallback(async () => {
    try {
      await call(auth.logout, {}, { quiet401: true });
    } finally {
      setUser(null);
    }
  }, []);

  return <SessionContext.Provider value={{ user, login, logout }}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}
