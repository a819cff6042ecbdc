// Axon admin console. Plain JavaScript, no build step: it signs in with the
// Client-Server API's POST /login, keeps the access token in sessionStorage
// (gone when the tab closes), and then uses the same admin API as any tool:
// Synapse's (/_synapse/admin/...) and Axon's own (/_axon/admin/v1/...).
// Text from the server is only ever placed with textContent, never as HTML.
'use strict';

const TOKEN_KEY = 'axon.admin.accessToken';
const USER_KEY = 'axon.admin.userId';
const PAGE_SIZE = 25;
const PAGES = ['status', 'users', 'tokens', 'rooms', 'federation'];

class ApiError extends Error {
  constructor(status, body) {
    super(body.error || `HTTP ${status}`);
    this.status = status;
    this.errcode = body.errcode;
  }
}

/** One JSON request to this server, with the signed-in admin's token. */
async function api(method, path, body) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = text === '' ? {} : JSON.parse(text);
  } catch {
    json = { error: text };
  }
  if (!res.ok) {
    // The session ended elsewhere (logged out, password reset): back to the sign-in form.
    if (res.status === 401 && token) forgetSession('Your session has ended; please sign in again.');
    throw new ApiError(res.status, json);
  }
  return json;
}

/** Builds an element; children are nodes or strings (set as text, never parsed as HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'className') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ''));
  return node;
}

const $ = (selector) => document.querySelector(selector);

function formatTime(ms) {
  return typeof ms === 'number' && ms > 0 ? new Date(ms).toLocaleString() : '—';
}

function formatDuration(seconds) {
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  return minutes > 0 ? `${minutes} min` : `${seconds} s`;
}

function showError(message) {
  $('#page-error').textContent = message;
}

/** Replaces a table's rows; `empty` is shown when there are none. */
function fillTable(selector, rows, empty) {
  const body = $(`${selector} tbody`);
  const columns = $(`${selector} thead tr`).children.length;
  body.replaceChildren(...(rows.length > 0 ? rows : [el('tr', { className: 'empty' }, el('td', { colspan: String(columns) }, empty))]));
}

// ---- signing in and out ----

function forgetSession(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
  showSignIn(message);
}

function showSignIn(message = '') {
  $('#app').hidden = true;
  $('#sign-out').hidden = true;
  $('#whoami').textContent = '';
  $('#sign-in').hidden = false;
  $('#sign-in-error').textContent = message;
}

async function signIn(user, password) {
  const login = await api('POST', '/_matrix/client/v3/login', {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user },
    password,
    initial_device_display_name: 'Axon admin console',
  });
  sessionStorage.setItem(TOKEN_KEY, login.access_token);
  sessionStorage.setItem(USER_KEY, login.user_id);
  try {
    // Only admins may list users: the admin API itself says whether this account is one.
    await api('GET', '/_synapse/admin/v2/users?limit=1');
  } catch (err) {
    if (err.status === 403) {
      await api('POST', '/_matrix/client/v3/logout', {}).catch(() => {});
      forgetSession(`${login.user_id} is not a server administrator.`);
      return;
    }
    throw err;
  }
  startApp();
}

async function signOut() {
  await api('POST', '/_matrix/client/v3/logout', {}).catch(() => {});
  forgetSession('Signed out.');
}

function startApp() {
  $('#sign-in').hidden = true;
  $('#app').hidden = false;
  $('#sign-out').hidden = false;
  $('#whoami').textContent = sessionStorage.getItem(USER_KEY) ?? '';
  const page = location.hash.slice(1);
  showPage(PAGES.includes(page) ? page : 'status');
}

// ---- pages ----

const loaders = { status: loadStatus, users: loadUsers, tokens: loadTokens, rooms: loadRooms, federation: loadDestinations };

function showPage(page) {
  for (const name of PAGES) $(`#page-${name}`).hidden = name !== page;
  for (const tab of document.querySelectorAll('.tabs button')) {
    if (tab.dataset.page === page) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  if (location.hash !== `#${page}`) history.replaceState(null, '', `#${page}`);
  showError('');
  loaders[page]().catch((err) => showError(err.message));
}

async function loadStatus() {
  const status = await api('GET', '/_axon/admin/v1/status');
  const peers = String((await api('GET', '/_synapse/admin/v1/federation/destinations?limit=1')).total);
  const facts = [
    ['Server name', status.server_name],
    ['Version', status.version],
    ['Uptime', formatDuration(status.uptime_seconds)],
    ['Database', status.database.engine === 'postgres' ? 'PostgreSQL' : 'SQLite'],
    ['Users', status.users],
    ['Rooms', status.rooms],
    ['Federation peers', peers],
  ];
  $('#status-facts').replaceChildren(...facts.map(([term, value]) => el('div', {}, el('dt', {}, term), el('dd', {}, value))));
}

const paging = { users: 0, rooms: 0 };

function setPager(list, from, count, total, hasNext) {
  const pager = $(`.pager[data-for="${list}"]`);
  pager.querySelector('span').textContent = total === 0 ? 'none' : `${from + 1}–${from + count} of ${total}`;
  pager.querySelector('[data-dir="prev"]').disabled = from === 0;
  pager.querySelector('[data-dir="next"]').disabled = !hasNext;
}

async function loadUsers() {
  const form = $('#users-search');
  const query = new URLSearchParams({ from: String(paging.users), limit: String(PAGE_SIZE) });
  if (form.name.value.trim() !== '') query.set('name', form.name.value.trim());
  if (form.deactivated.checked) query.set('deactivated', 'true');
  const page = await api('GET', `/_synapse/admin/v2/users?${query}`);
  const rows = page.users.map((user) =>
    el(
      'tr',
      { 'data-user-id': user.name },
      el('td', { className: 'mono' }, user.name),
      el('td', {}, user.displayname ?? ''),
      el('td', {}, user.admin ? 'yes' : 'no'),
      el('td', {}, user.deactivated ? 'deactivated' : user.locked ? 'locked' : user.suspended ? 'suspended' : 'active'),
      el('td', {}, formatTime(user.creation_ts * 1000)),
      el('td', {}, formatTime(user.last_seen_ts)),
      el('td', { className: 'actions' }, ...userActions(user)),
    ),
  );
  fillTable('#users-table', rows, 'No users match.');
  setPager('users', paging.users, page.users.length, page.total, page.next_token !== undefined);
}

/** What an admin can do to a user from the list: reset the password, deactivate. */
function userActions(user) {
  if (user.deactivated) return [];
  return [
    el('button', { type: 'button', className: 'secondary', 'data-action': 'reset-password', onclick: () => resetPassword(user.name) }, 'Reset password'),
    el('button', { type: 'button', className: 'danger', 'data-action': 'deactivate', onclick: () => deactivate(user.name) }, 'Deactivate'),
  ];
}

async function resetPassword(userId) {
  const password = prompt(`New password for ${userId} (they will be signed out everywhere):`);
  if (!password) return;
  await api('POST', `/_synapse/admin/v1/reset_password/${encodeURIComponent(userId)}`, { new_password: password, logout_devices: true }).catch((err) => showError(err.message));
}

async function deactivate(userId) {
  if (!confirm(`Deactivate ${userId}? They will be signed out and cannot sign in again.`)) return;
  try {
    await api('POST', `/_synapse/admin/v1/deactivate/${encodeURIComponent(userId)}`, { erase: false });
    await loadUsers();
  } catch (err) {
    showError(err.message);
  }
}

/** The server's name, for the user ID of a new account (from the status endpoint, read once). */
let ownServerName;

async function createUser(form) {
  ownServerName ??= (await api('GET', '/_axon/admin/v1/status')).server_name;
  const userId = `@${form.localpart.value.trim().toLowerCase()}:${ownServerName}`;
  const body = { password: form.password.value, admin: form.admin.checked };
  if (form.displayname.value.trim() !== '') body.displayname = form.displayname.value.trim();
  await api('PUT', `/_synapse/admin/v2/users/${encodeURIComponent(userId)}`, body);
  form.reset();
  await loadUsers();
}

async function loadTokens() {
  const { registration_tokens: tokens } = await api('GET', '/_synapse/admin/v1/registration_tokens');
  const rows = tokens.map((t) =>
    el(
      'tr',
      { 'data-token': t.token },
      el('td', { className: 'mono' }, t.token),
      el('td', {}, t.uses_allowed ?? 'unlimited'),
      el('td', {}, t.pending),
      el('td', {}, t.completed),
      el('td', {}, t.expiry_time === null ? 'never' : formatTime(t.expiry_time)),
      el('td', {}, el('button', { type: 'button', className: 'danger', onclick: () => deleteToken(t.token) }, 'Delete')),
    ),
  );
  fillTable('#tokens-table', rows, 'No registration tokens yet.');
}

async function createToken(form) {
  const body = {};
  if (form.token.value.trim() !== '') body.token = form.token.value.trim();
  if (form.uses_allowed.value !== '') body.uses_allowed = Number(form.uses_allowed.value);
  if (form.expiry.value !== '') body.expiry_time = new Date(form.expiry.value).getTime();
  await api('POST', '/_synapse/admin/v1/registration_tokens/new', body);
  form.reset();
  await loadTokens();
}

async function deleteToken(token) {
  if (!confirm(`Delete the registration token ${token}?`)) return;
  await api('DELETE', `/_synapse/admin/v1/registration_tokens/${encodeURIComponent(token)}`);
  await loadTokens();
}

async function loadRooms() {
  const form = $('#rooms-search');
  const query = new URLSearchParams({ from: String(paging.rooms), limit: String(PAGE_SIZE) });
  if (form.search_term.value.trim() !== '') query.set('search_term', form.search_term.value.trim());
  const page = await api('GET', `/_synapse/admin/v1/rooms?${query}`);
  const rows = page.rooms.map((room) =>
    el(
      'tr',
      { 'data-room-id': room.room_id },
      el('td', {}, room.name ?? '(no name)', el('div', { className: 'mono muted' }, room.room_id)),
      el('td', { className: 'mono' }, room.canonical_alias ?? ''),
      el('td', {}, room.joined_members),
      el('td', {}, room.joined_local_members),
      el('td', {}, room.version),
      el('td', {}, room.public ? 'yes' : 'no'),
      el('td', {}, room.encryption ?? 'none'),
    ),
  );
  fillTable('#rooms-table', rows, 'No rooms match.');
  setPager('rooms', paging.rooms, page.rooms.length, page.total_rooms, page.next_batch !== undefined);
}

async function loadDestinations() {
  $('#doctor-report').hidden = true;
  const page = await api('GET', '/_synapse/admin/v1/federation/destinations?limit=100');
  const rows = page.destinations.map((d) => {
    const failing = d.failure_ts !== null && d.failure_ts !== undefined;
    const nextRetry = d.retry_last_ts && d.retry_interval ? d.retry_last_ts + d.retry_interval : null;
    return el(
      'tr',
      { 'data-destination': d.destination },
      el('td', { className: 'mono' }, d.destination),
      el('td', {}, el('span', { className: `badge ${failing ? 'problem' : 'ok'}` }, failing ? 'failing' : 'ok')),
      el('td', { className: 'last-error' }, d.last_error ?? ''),
      el('td', {}, formatTime(d.failure_ts)),
      el('td', {}, formatTime(nextRetry)),
      el('td', {}, d.queue_length ?? 0),
      el('td', {}, el('button', { type: 'button', className: 'secondary', onclick: (e) => runDoctor(d.destination, e.target) }, 'Run doctor')),
    );
  });
  fillTable('#destinations-table', rows, 'This server has not talked to any other server yet.');
}

async function runDoctor(serverName, button) {
  const report = $('#doctor-report');
  button.disabled = true;
  report.hidden = false;
  report.replaceChildren(el('p', { className: 'muted' }, `Checking ${serverName}…`));
  try {
    const result = await api('POST', `/_axon/admin/v1/doctor/federation/${encodeURIComponent(serverName)}`, {});
    const checks = result.checks.map((check) =>
      el(
        'li',
        {},
        el('span', { className: `badge ${check.status}` }, check.status),
        ' ',
        el('strong', {}, check.step),
        el('div', {}, check.detail),
        check.fix ? el('p', { className: 'fix' }, `Fix: ${check.fix}`) : '',
      ),
    );
    report.replaceChildren(
      el('h2', {}, `Doctor: ${result.server} `, el('span', { className: `badge ${result.ok ? 'ok' : 'problem'}` }, result.ok ? 'reachable' : 'problems found')),
      el('ul', { className: 'checks' }, ...checks),
    );
  } catch (err) {
    report.replaceChildren(el('p', { className: 'error' }, `The doctor could not run: ${err.message}`));
  } finally {
    button.disabled = false;
  }
}

// ---- wiring ----

function onSubmit(selector, handler) {
  $(selector).addEventListener('submit', (event) => {
    event.preventDefault();
    showError('');
    handler(event.target).catch((err) => showError(err.message));
  });
}

document.addEventListener('DOMContentLoaded', () => {
  $('#sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target;
    $('#sign-in-error').textContent = '';
    signIn(form.user.value.trim(), form.password.value).catch((err) => {
      $('#sign-in-error').textContent = err.status === 403 ? 'Wrong user name or password.' : err.message;
    });
  });
  $('#sign-out').addEventListener('click', () => signOut());
  for (const tab of document.querySelectorAll('.tabs button')) tab.addEventListener('click', () => showPage(tab.dataset.page));
  onSubmit('#users-search', async () => {
    paging.users = 0;
    await loadUsers();
  });
  onSubmit('#rooms-search', async () => {
    paging.rooms = 0;
    await loadRooms();
  });
  onSubmit('#token-form', createToken);
  onSubmit('#create-user-form', createUser);
  for (const pager of document.querySelectorAll('.pager')) {
    const list = pager.dataset.for;
    pager.addEventListener('click', (event) => {
      const dir = event.target.dataset?.dir;
      if (!dir) return;
      paging[list] = Math.max(0, paging[list] + (dir === 'next' ? PAGE_SIZE : -PAGE_SIZE));
      loaders[list]().catch((err) => showError(err.message));
    });
  }
  if (sessionStorage.getItem(TOKEN_KEY)) startApp();
  else showSignIn();
});
