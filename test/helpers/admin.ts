// A server admin for tests of the admin API and console: registered like any
// user, then given the admin flag (as `axon register-user --admin` would).
import { registerUser, type TestUser } from './client.js';
import type { TestHomeserver } from './homeserver.js';

export async function registerAdmin(hs: TestHomeserver, username = 'root', password?: string): Promise<TestUser> {
  const admin = await registerUser(hs.baseUrl, username, password);
  await hs.server.accounts.context.stores.users.setAdmin(admin.userId, true);
  return admin;
}
