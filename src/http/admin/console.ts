// The admin console: static HTML, CSS and JavaScript under /_axon/admin/,
// with no build step. The files live in web/console/ at the package root
// (three levels up from both src/http/admin and dist/http/admin, like
// package.json for the version) and are read once at start-up. The page
// signs in with POST /login and then talks to the admin API like any tool.
import { readFileSync } from 'node:fs';
import type { Route } from '../types.js';

const CONSOLE_DIR = new URL('../../../web/console/', import.meta.url);

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
};

/** Every file the console has, served under its own name; index.html also at the directory itself. */
const FILES = ['index.html', 'console.css', 'console.js'] as const;

/**
 * The page only loads its own files and talks to its own origin; nobody may
 * frame it (an admin's clicks cannot be hijacked from another site).
 */
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

export const CONSOLE_PATH = '/_axon/admin/';

export function adminConsoleRoutes(): Route[] {
  const files = new Map(
    FILES.map((name) => {
      const body = readFileSync(new URL(name, CONSOLE_DIR));
      const headers = { ...SECURITY_HEADERS, 'Content-Type': CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1)]! };
      return [name, { body, headers }] as const;
    }),
  );
  const index = files.get('index.html')!;
  return [
    /** # GET /_axon/admin — the console's address without its slash, where relative links would break. */
    { method: 'GET', path: '/_axon/admin', auth: 'none', handler: async () => ({ status: 302, body: Buffer.alloc(0), headers: { Location: CONSOLE_PATH } }) },
    /** # GET /_axon/admin/ */
    { method: 'GET', path: CONSOLE_PATH, auth: 'none', handler: async () => index },
    ...[...files].map(
      ([name, file]): Route => ({
        method: 'GET',
        path: `${CONSOLE_PATH}${name}`,
        auth: 'none',
        handler: async () => file,
      }),
    ),
  ];
}
