// PUT /_matrix/federation/v1/send/{txnId} (server-server-api
// "Transactions"): a batch of at most 50 PDUs and 100 EDUs from one server.
// Each room's PDUs are handled in order, rooms in parallel; a PDU that fails
// is reported in the answer, never as a failed request. One server's
// transactions are handled one at a time, and a repeated transaction ID gets
// the first answer again without being handled twice.
import { badJson } from '../../core/errors.js';
import { computeEventId } from '../../core/event-id.js';
import { roomVersion } from '../../core/room-versions.js';
import type { JsonObject, JsonValue } from '../../core/types.js';
import { KeyedQueue } from '../../services/rooms/keyed-queue.js';
import type { RoomStore } from '../../storage/rooms/index.js';
import type { ReceivedTransactionStore } from '../../storage/received-transactions.js';
import type { FederatedEventHandler } from './event-handler.js';

export const MAX_PDUS_PER_TRANSACTION = 50;
export const MAX_EDUS_PER_TRANSACTION = 100;
/** How long a handled transaction ID is remembered (Synapse keeps them a day). */
const REMEMBER_MS = 24 * 60 * 60 * 1000;

/** Handles one kind of EDU (m.typing, m.receipt, ...) from `origin`. */
export type EduHandler = (origin: string, content: JsonObject) => Promise<void>;

export interface TransactionDeps {
  events: FederatedEventHandler;
  store: RoomStore;
  transactions: ReceivedTransactionStore;
  clock: () => number;
  log: (message: string, fields?: Record<string, unknown>) => void;
}

export class TransactionReceiver {
  private readonly perOrigin = new KeyedQueue();
  private readonly eduHandlers = new Map<string, EduHandler>();
  private lastPrune = 0;

  constructor(private readonly deps: TransactionDeps) {}

  /** Registers the handler of one EDU type; EDUs of types nobody handles are ignored, as the spec asks. */
  onEdu(type: string, handler: EduHandler): void {
    this.eduHandlers.set(type, handler);
  }

  async receive(origin: string, txnId: string, body: JsonValue | undefined): Promise<JsonObject> {
    const { pdus, edus } = parseTransaction(body);
    return this.perOrigin.run(origin, async () => {
      const seen = await this.deps.transactions.response(origin, txnId);
      if (seen) return seen;
      const [results] = await Promise.all([this.handlePdus(origin, pdus), this.handleEdus(origin, edus)]);
      const response: JsonObject = { pdus: results };
      const now = this.deps.clock();
      await this.deps.transactions.record(origin, txnId, response, now);
      await this.pruneNowAndThen(now);
      return response;
    });
  }

  private async handlePdus(origin: string, pdus: JsonObject[]): Promise<JsonObject> {
    const byRoom = new Map<string, JsonObject[]>();
    for (const pdu of pdus) {
      const roomId = pdu['room_id'];
      if (typeof roomId !== 'string') continue; // only a v12 create event lacks one, and it never comes in a transaction
      const list = byRoom.get(roomId);
      if (list) list.push(pdu);
      else byRoom.set(roomId, [pdu]);
    }
    const results: JsonObject = {};
    await Promise.all(
      [...byRoom].map(async ([roomId, roomPdus]) => {
        const record = await this.deps.store.rooms.getRoom(roomId);
        const rules = record && roomVersion(record.roomVersion);
        for (const pdu of roomPdus) {
          const eventId = rules ? eventIdOf(pdu, rules) : undefined;
          try {
            // A rejected or soft-failed event was handled as the spec asks: no error for it.
            await this.deps.events.onPdu(origin, roomId, pdu);
            if (eventId) results[eventId] = {};
          } catch (err) {
            this.deps.log('a PDU of a transaction was not taken', { origin, roomId, eventId, error: (err as Error).message });
            if (eventId) results[eventId] = { error: (err as Error).message };
          }
        }
      }),
    );
    return results;
  }

  private async handleEdus(origin: string, edus: JsonObject[]): Promise<void> {
    for (const edu of edus) {
      const type = edu['edu_type'];
      const handler = typeof type === 'string' ? this.eduHandlers.get(type) : undefined;
      const content = edu['content'];
      if (!handler || typeof content !== 'object' || content === null || Array.isArray(content)) continue;
      try {
        await handler(origin, content);
      } catch (err) {
        this.deps.log('an EDU was not taken', { origin, type, error: (err as Error).message });
      }
    }
  }

  private async pruneNowAndThen(now: number): Promise<void> {
    if (now - this.lastPrune < REMEMBER_MS / 24) return;
    this.lastPrune = now;
    await this.deps.transactions.prune(now - REMEMBER_MS);
  }
}

function parseTransaction(body: JsonValue | undefined): { pdus: JsonObject[]; edus: JsonObject[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badJson('A transaction is a JSON object');
  const pdus = body['pdus'] ?? [];
  const edus = body['edus'] ?? [];
  if (!Array.isArray(pdus)) throw badJson("'pdus' must be an array");
  if (!Array.isArray(edus)) throw badJson("'edus' must be an array");
  if (pdus.length > MAX_PDUS_PER_TRANSACTION) throw badJson(`A transaction carries at most ${MAX_PDUS_PER_TRANSACTION} PDUs; this one has ${pdus.length}`);
  if (edus.length > MAX_EDUS_PER_TRANSACTION) throw badJson(`A transaction carries at most ${MAX_EDUS_PER_TRANSACTION} EDUs; this one has ${edus.length}`);
  const objects = (list: JsonValue[]) => list.filter((x): x is JsonObject => typeof x === 'object' && x !== null && !Array.isArray(x));
  return { pdus: objects(pdus), edus: objects(edus) };
}

function eventIdOf(pdu: JsonObject, rules: NonNullable<ReturnType<typeof roomVersion>>): string | undefined {
  try {
    return computeEventId(pdu, rules);
  } catch {
    return undefined;
  }
}
