// A tiny JSON client for HTTP tests against a running test homeserver.

export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestUser {
  userId: string;
  accessToken: string;
  deviceId: string;
}

/** A JSON request; `token` goes in the Authorization header. */
export async function call<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? {} : JSON.parse(text);
  } catch {
    // not JSON (media); the raw text is returned
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** Registers `username` through UIA with the dummy stage and returns its login. */
export async function registerUser(baseUrl: string, username: string, password = 'correct horse battery'): Promise<TestUser> {
  const first = await call(baseUrl, 'POST', '/_matrix/client/v3/register', { username, password });
  if (first.status !== 401) throw new Error(`expected a UIA challenge, got ${first.status} ${JSON.stringify(first.body)}`);
  const done = await call(baseUrl, 'POST', '/_matrix/client/v3/register', {
    username,
    password,
    auth: { type: 'm.login.dummy', session: first.body.session },
  });
  if (done.status !== 200) throw new Error(`registration failed: ${done.status} ${JSON.stringify(done.body)}`);
  return { userId: done.body.user_id as string, accessToken: done.body.access_token as string, deviceId: done.body.device_id as string };
}
