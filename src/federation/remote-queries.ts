// What this server asks other servers on behalf of its users
// (server-server-api "Querying for information", "Published Room
// Directory", "Spaces"): a remote user's profile, a remote server's public
// room list, and a space this server is not in. Answers are checked before
// use, and every failure becomes an error the client can read (see
// remote-failure.ts).
import { MatrixError } from '../core/errors.js';
import { serverNameOfUserId } from '../core/identifiers.js';
import type { JsonObject, JsonValue } from '../core/types.js';
import type { Profile } from '../storage/accounts/profiles.js';
import type { RemoteProfiles } from '../services/accounts/profiles.js';
import type { RemoteSpace, RemoteSpaces } from '../services/directory/hierarchy.js';
import { isValidSpaceChild } from '../services/rooms/spaces.js';
import type { PublicRoomsPage, PublicRoomsQuery, RemoteRoomDirectories } from '../services/directory/public-rooms.js';
import type { FederationClient } from './client.js';
import { remoteFailure } from './remote-failure.js';
import { federationPath } from './requester.js';

const V1 = '/_matrix/federation/v1';
/** space_hierarchy.yaml: "Responses to this endpoint should be cached"; Synapse keeps them 5 minutes. */
const HIERARCHY_TTL_MS = 5 * 60_000;
/** A space no server could describe is not asked about again for this long, so paging a hierarchy stays quick. */
const HIERARCHY_FAILURE_TTL_MS = 60_000;
/** A space's servers are asked while a user waits for the whole tree: each gets less time than a lone request. */
const HIERARCHY_TIMEOUT_MS = 10_000;
/** Synapse's MAX_SERVERS_PER_SPACE: servers of an m.space.child's `via` tried. */
const MAX_SERVERS_PER_SPACE = 3;
const MAX_CACHED_SPACES = 1_000;

export interface RemoteQueryDeps {
  client: Pick<FederationClient, 'request'>;
  serverName: string;
  clock: () => number;
  log: (message: string, fields?: Record<string, unknown>) => void;
}

export class RemoteQueries implements RemoteProfiles, RemoteRoomDirectories, RemoteSpaces {
  private readonly spaces = new Map<string, { space: RemoteSpace | undefined; expiresAt: number }>();

  constructor(private readonly deps: RemoteQueryDeps) {}

  /** GET /query/profile on the user's server. */
  async profile(userId: string): Promise<Profile> {
    const server = serverNameOfUserId(userId)!;
    let answer: JsonObject;
    try {
      answer = await this.deps.client.request<JsonObject>(server, 'GET', `${V1}/query/profile`, { query: { user_id: userId } });
    } catch (err) {
      throw remoteFailure(err, `get the profile of ${userId} from ${server}`);
    }
    const text = (value: JsonValue | undefined): string | null => (typeof value === 'string' ? value : null);
    return { displayname: text(answer['displayname']), avatarUrl: text(answer['avatar_url']) };
  }

  /**
   * /publicRooms on `server`: GET for a plain page, POST when there is a
   * filter (server-server-api, public_rooms.yaml), as Synapse asks.
   */
  async publicRooms(server: string, query: PublicRoomsQuery): Promise<PublicRoomsPage> {
    const path = `${V1}/publicRooms`;
    const common = {
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
      ...(query.since !== undefined ? { since: query.since } : {}),
      ...(query.includeAllNetworks ? { include_all_networks: true } : {}),
      ...(query.thirdPartyInstanceId !== undefined ? { third_party_instance_id: query.thirdPartyInstanceId } : {}),
    };
    const filter: JsonObject = {};
    if (query.searchTerm !== undefined) filter['generic_search_term'] = query.searchTerm;
    if (query.roomTypes !== undefined) filter['room_types'] = [...query.roomTypes];
    let answer: JsonObject;
    try {
      answer =
        Object.keys(filter).length === 0
          ? await this.deps.client.request<JsonObject>(server, 'GET', path, { query: common })
          : await this.deps.client.request<JsonObject>(server, 'POST', path, { body: { ...common, filter } });
    } catch (err) {
      throw remoteFailure(err, `get the public room list of ${server}`);
    }
    return publicRoomsPage(server, answer);
  }

  /**
   * GET /hierarchy/{roomId} on the first of `via` (up to three) that
   * answers usably; answers, and for a while failures, are kept.
   */
  async hierarchy(via: readonly string[], roomId: string, suggestedOnly: boolean): Promise<RemoteSpace | undefined> {
    const key = `${suggestedOnly ? 's' : 'a'}${roomId}`;
    const now = this.deps.clock();
    const cached = this.spaces.get(key);
    if (cached && cached.expiresAt > now) return cached.space;
    const space = await this.askForSpace(via, roomId, suggestedOnly);
    this.spaces.delete(key);
    this.spaces.set(key, { space, expiresAt: now + (space ? HIERARCHY_TTL_MS : HIERARCHY_FAILURE_TTL_MS) });
    if (this.spaces.size > MAX_CACHED_SPACES) this.spaces.delete(this.spaces.keys().next().value!);
    return space;
  }

  private async askForSpace(via: readonly string[], roomId: string, suggestedOnly: boolean): Promise<RemoteSpace | undefined> {
    const servers = [...new Set(via)].filter((s) => s !== this.deps.serverName).slice(0, MAX_SERVERS_PER_SPACE);
    for (const server of servers) {
      try {
        const answer = await this.deps.client.request<JsonObject>(server, 'GET', federationPath(`${V1}/hierarchy`, roomId), {
          query: { suggested_only: suggestedOnly ? 'true' : 'false' },
          timeoutMs: HIERARCHY_TIMEOUT_MS,
        });
        return remoteSpace(server, roomId, answer);
      } catch (err) {
        // As Synapse: a room no server can describe is left out of the user's hierarchy, not an error.
        this.deps.log('could not get a space hierarchy from a server', { roomId, server, error: (err as Error).message });
      }
    }
    return undefined;
  }
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function badAnswer(server: string, what: string): MatrixError {
  return new MatrixError(502, 'M_UNKNOWN', `${server} answered ${what}`);
}

/** public_rooms_response.yaml, keeping only chunk entries that are objects with a room ID. */
function publicRoomsPage(server: string, answer: JsonObject): PublicRoomsPage {
  const chunk = answer['chunk'];
  if (!Array.isArray(chunk)) throw badAnswer(server, "the public room list request without a 'chunk' list");
  const rooms = chunk.filter((room): room is JsonObject => isObject(room) && typeof room['room_id'] === 'string');
  const estimate = answer['total_room_count_estimate'];
  const page: PublicRoomsPage = { chunk: rooms, total_room_count_estimate: typeof estimate === 'number' ? estimate : rooms.length };
  if (typeof answer['next_batch'] === 'string') page.next_batch = answer['next_batch'];
  if (typeof answer['prev_batch'] === 'string') page.prev_batch = answer['prev_batch'];
  return page;
}

/**
 * Checks a hierarchy answer as Synapse does: `room` must be the room asked
 * for; m.space.child events need a string state_key, content with a `via`
 * list and a numeric origin_server_ts (others are dropped); children must be
 * objects with a room ID, inaccessible_children strings.
 */
function remoteSpace(server: string, roomId: string, answer: JsonObject): RemoteSpace {
  const room = answer['room'];
  if (!isObject(room) || room['room_id'] !== roomId) throw badAnswer(server, `the hierarchy of ${roomId} with another room or none`);
  const { children_state: childrenState, ...summary } = room;
  const events = Array.isArray(childrenState) ? childrenState.filter(isChildEvent) : [];
  const children = new Map<string, JsonObject>();
  for (const child of Array.isArray(answer['children']) ? answer['children'] : []) {
    if (isObject(child) && typeof child['room_id'] === 'string') children.set(child['room_id'], child);
  }
  const inaccessible = Array.isArray(answer['inaccessible_children']) ? answer['inaccessible_children'].filter((r): r is string => typeof r === 'string') : [];
  return { room: summary, childrenState: events, children, inaccessible: new Set(inaccessible) };
}

function isChildEvent(event: JsonValue): event is JsonObject {
  if (!isObject(event) || event['type'] !== 'm.space.child' || typeof event['state_key'] !== 'string' || typeof event['origin_server_ts'] !== 'number') return false;
  const content = event['content'];
  return isObject(content) && isValidSpaceChild(content);
}
