// GET /mutual_rooms (client-server-api/modules/mutual_rooms.md;
// mutual_rooms.yaml): the rooms two users are both joined to, in batches.
import { encodeBase64Url, tryDecodeBase64 } from '../../core/base64.js';
import { parseUserId } from '../../core/identifiers.js';
import type { JsonObject } from '../../core/types.js';
import { invalidParam } from '../../core/errors.js';
import type { RoomStore } from '../../storage/rooms/index.js';

/** Synapse's batch size. */
export const MUTUAL_ROOMS_BATCH = 100;
/** Opaque identifiers are at most 255 characters (appendices.md, "Opaque Identifiers"). */
const MAX_TOKEN_LENGTH = 255;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class MutualRoomsService {
  constructor(private readonly memberships: RoomStore['memberships']) {}

  /**
   * Room IDs in code-unit order; a batch token is the last room ID of its
   * batch (URL-safe Base64, cut to 255 characters as Synapse does), and
   * the next batch is the rooms after it. Tokens therefore never expire, and
   * rooms joined later that sort before the token are left out, as the
   * module allows.
   */
  async mutualRooms(userId: string, otherUserId: string, from: string | undefined): Promise<JsonObject> {
    if (!parseUserId(otherUserId, { historical: false })) throw invalidParam(`'${otherUserId}' is not a valid user ID`);
    if (otherUserId === userId) throw invalidParam('You cannot ask for the rooms you share with yourself');
    const after = from === undefined ? undefined : parseToken(from);
    const [mine, theirs] = await Promise.all([this.joinedRooms(userId), this.joinedRooms(otherUserId)]);
    const shared = [...mine].filter((roomId) => theirs.has(roomId)).sort();
    const remaining = after === undefined ? shared : shared.filter((roomId) => roomId > after);
    const batch = remaining.slice(0, MUTUAL_ROOMS_BATCH);
    const body: JsonObject = { joined: batch, count: shared.length };
    if (remaining.length > batch.length) {
      const next = encodeBase64Url(Buffer.from(batch.at(-1)!)).slice(0, MAX_TOKEN_LENGTH);
      // Only a run of room IDs sharing their first 191 bytes could repeat a token; stop rather than loop.
      if (next !== from) body.next_batch = next;
    }
    return body;
  }

  private async joinedRooms(userId: string): Promise<Set<string>> {
    return new Set((await this.memberships.roomsForUser(userId, ['join'])).map((m) => m.roomId));
  }
}

function parseToken(token: string): string {
  const bytes = token.length <= MAX_TOKEN_LENGTH ? tryDecodeBase64(token) : null;
  try {
    if (bytes !== null && bytes.length > 0) return utf8.decode(bytes);
  } catch {
    // not UTF-8: not a token of ours
  }
  throw invalidParam(`'${token}' is not a mutual rooms batch token from this server`);
}
