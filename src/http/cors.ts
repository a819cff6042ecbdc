// CORS for browser clients such as Element Web: every response allows any
// origin, and a preflight OPTIONS is answered for any path without
// authentication (client-server-api/_index.md, "Web Browser Clients").
import type { ServerResponse } from 'node:http';

export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'X-Requested-With, Content-Type, Authorization, Date',
};

export function applyCors(res: ServerResponse): void {
  for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value);
}
