/**
 * A bare API client for the benchmarks that time the server, not the SDK: one login, then JSON POSTs to
 * `/api/v2.23/<endpoint>`, answers unwrapped from ClearML's envelope.
 */
export interface ApiSession {
  token: string;
  call<T = Record<string, unknown>>(endpoint: string, body: unknown): Promise<T>;
}

export async function apiSession(server: { apiUrl: string; accessKey: string; secretKey: string }): Promise<ApiSession> {
  const basic = Buffer.from(`${server.accessKey}:${server.secretKey}`).toString('base64');
  const login = await fetch(`${server.apiUrl}/auth.login`, { method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' }, body: '{}' });
  const token = ((await login.json()) as { data: { token: string } }).data.token;
  if (!token) throw new Error(`login failed: HTTP ${login.status}`);
  return {
    token,
    async call<T>(endpoint: string, body: unknown): Promise<T> {
      const res = await fetch(`${server.apiUrl}/v2.23/${endpoint}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const envelope = (await res.json()) as { meta: { result_code: number; result_msg: string }; data: T };
      if (res.status !== 200) throw new Error(`${endpoint}: ${res.status} ${envelope.meta?.result_msg}`);
      return envelope.data;
    },
  };
}
