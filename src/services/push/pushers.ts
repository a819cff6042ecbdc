// Pushers (client-server-api/modules/push.md, "Pushers"; pusher.yaml).
import { invalidParam } from '../../core/errors.js';
import type { NewPusher, Pusher, PusherStore } from '../../storage/push/index.js';

/** The path every push gateway serves (push-gateway-api.md). */
export const PUSH_GATEWAY_PATH = '/_matrix/push/v1/notify';

export class PusherService {
  constructor(private readonly store: PusherStore) {}

  list(userId: string): Promise<Pusher[]> {
    return this.store.forUser(userId);
  }

  /** Creates or replaces a pusher; see PusherStore.set for `append`. */
  async set(pusher: NewPusher, append: boolean): Promise<void> {
    if (pusher.kind === 'http') checkGatewayUrl(pusher.data['url']);
    await this.store.set(pusher, append);
  }

  /** Deletes a pusher; deleting one that does not exist succeeds, as in Synapse. */
  async remove(userId: string, appId: string, pushkey: string): Promise<void> {
    await this.store.remove(userId, appId, pushkey);
  }

  /** Logged-out or deleted devices stop receiving notifications. */
  async removeForDevices(userId: string, deviceIds: readonly string[]): Promise<void> {
    await this.store.removeForDevices(userId, deviceIds);
  }

  async removeAllForUser(userId: string): Promise<void> {
    await this.store.removeAllForUser(userId);
  }
}

/**
 * pusher.yaml: "`url` ... MUST be an HTTPS URL with a path of
 * /_matrix/push/v1/notify". Like Synapse, plain http is accepted too: a
 * gateway on the same host or LAN is common, and ip_range_blacklist is
 * what protects the server's network.
 */
function checkGatewayUrl(value: unknown): void {
  if (typeof value !== 'string') throw invalidParam("'data.url' is required for http pushers and must be a string");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidParam(`'data.url' is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidParam("'data.url' must be an https:// (or http://) URL");
  if (url.pathname !== PUSH_GATEWAY_PATH) throw invalidParam(`'data.url' must have the path ${PUSH_GATEWAY_PATH}, not ${url.pathname}`);
}
