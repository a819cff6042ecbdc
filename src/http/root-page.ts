// The page at `/` of a client listener: a person who opens the homeserver's
// address in a browser learns that Axon is running, which version, and
// what to type into Element to connect. As Synapse's "It works!" page, but
// with the address to use.
import type { Route } from './types.js';

export interface RootPageOptions {
  serverName: string;
  /** What clients connect to (public_baseurl). */
  publicBaseUrl: string;
  version: string;
}

export function rootPageRoutes(opts: RootPageOptions): Route[] {
  const page = Buffer.from(rootPageHtml(opts));
  const headers = { 'Content-Type': 'text/html; charset=utf-8' };
  return [
    /** # GET / */
    { method: 'GET', path: '/', auth: 'none', handler: async () => ({ body: page, headers }) },
  ];
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe to place in HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

function rootPageHtml(opts: RootPageOptions): string {
  const baseUrl = escapeHtml(opts.publicBaseUrl);
  const serverName = escapeHtml(opts.serverName);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Axon is running</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #1b1f24; }
  h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
  .version { color: #57606a; margin-top: 0; }
  code { background: #f3f4f6; padding: 0.1rem 0.35rem; border-radius: 4px; }
  ol li { margin: 0.4rem 0; }
</style>
</head>
<body>
<h1>Axon is running</h1>
<p class="version">Matrix homeserver <strong>${serverName}</strong>, Axon version <span id="version">${escapeHtml(opts.version)}</span></p>
<h2>Connect with Element</h2>
<ol>
  <li>Open Element (the desktop or mobile app, or app.element.io).</li>
  <li>On the sign-in screen, choose <em>Edit</em> next to the homeserver.</li>
  <li>Enter <code id="homeserver-url">${baseUrl}</code> and continue.</li>
  <li>Sign in or create an account; your user ID will look like <code>@name:${serverName}</code>.</li>
</ol>
<p>Server administrators can manage this server in the <a href="/_axon/admin/">admin console</a>.</p>
</body>
</html>
`;
}
