// Send-to-device messaging across servers (server-server-api
// "Send-to-device messaging"): messages for other servers' users leave as
// m.direct_to_device EDUs, one set per destination, each with a message_id;
// received ones go to the local devices' inboxes ('*': every device).
import { randomBytes } from 'node:crypto';
import { serverNameOfUserId } from '../../core/identifiers.js';
import { isJsonObject, type JsonObject } from '../../core/types.js';
import type { DeviceMessages, RemoteToDeviceSink, ToDeviceService } from '../../services/e2ee/index.js';
import type { Edu } from '../outbound/sender.js';
import type { BackgroundTasks } from '../../services/background-tasks.js';

/** Synapse's SOFT_MAX_EDU_SIZE: a server's request body limit must not refuse a transaction for one EDU. */
export const MAX_EDU_BYTES = 65_536;
/** How long a received message_id is remembered; a sender retries for hours, not a week. */
const REMEMBER_MESSAGE_IDS_MS = 7 * 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * The sink ToDeviceService hands other servers' messages to: one or more
 * EDUs per destination, queued in the caller's transaction.
 */
export function toDeviceSender(queueEdu: (edu: Edu, destinations: readonly string[]) => Promise<void>): RemoteToDeviceSink {
  return async (sender, type, byServer) => {
    for (const [server, messages] of byServer) {
      for (const content of splitIntoEdus(sender, type, messages)) await queueEdu({ edu_type: 'm.direct_to_device', content }, [server]);
    }
  };
}

/**
 * The contents of m.direct_to_device EDUs carrying `messages`, each below
 * MAX_EDU_BYTES unless a single message is larger. Each has its own
 * message_id (at most 32 characters, as the spec allows).
 */
export function splitIntoEdus(sender: string, type: string, messages: DeviceMessages): JsonObject[] {
  const header = Buffer.byteLength(JSON.stringify(eduContent(sender, type, {})));
  const edus: JsonObject[] = [];
  let batch: DeviceMessages = {};
  let size = header;
  for (const [userId, byDevice] of Object.entries(messages)) {
    for (const [deviceId, message] of Object.entries(byDevice)) {
      // Quotes, colons and braces around the two IDs.
      const entry = Buffer.byteLength(JSON.stringify(message)) + Buffer.byteLength(userId) + Buffer.byteLength(deviceId) + 10;
      if (size + entry > MAX_EDU_BYTES && size > header) {
        edus.push(eduContent(sender, type, batch));
        batch = {};
        size = header;
      }
      (batch[userId] ??= {})[deviceId] = message;
      size += entry;
    }
  }
  if (size > header) edus.push(eduContent(sender, type, batch));
  return edus;
}

function eduContent(sender: string, type: string, messages: DeviceMessages): JsonObject {
  return { sender, type, message_id: randomBytes(16).toString('base64url'), messages };
}

export class ToDeviceReceiver {
  private lastPrune = 0;

  constructor(
    private readonly toDevice: ToDeviceService,
    private readonly background: BackgroundTasks,
    private readonly clock: () => number,
  ) {}

  /** The m.direct_to_device EDU handler. */
  async receive(origin: string, content: JsonObject): Promise<void> {
    const { sender, type, message_id: messageId, messages } = content;
    if (typeof sender !== 'string' || typeof type !== 'string' || typeof messageId !== 'string' || !isJsonObject(messages)) {
      throw new Error("m.direct_to_device needs string 'sender', 'type' and 'message_id' and a 'messages' object");
    }
    if (serverNameOfUserId(sender) !== origin) throw new Error(`m.direct_to_device from ${sender}, who is not a user of ${origin}`);
    const parsed: DeviceMessages = {};
    for (const [userId, byDevice] of Object.entries(messages)) {
      if (!isJsonObject(byDevice)) continue;
      parsed[userId] = Object.fromEntries(Object.entries(byDevice).filter((entry): entry is [string, JsonObject] => isJsonObject(entry[1])));
    }
    await this.toDevice.receive({ origin, messageId, sender, type, messages: parsed });
    this.pruneNowAndThen();
  }

  private pruneNowAndThen(): void {
    const now = this.clock();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    this.background.run('forgetting old to-device message IDs', () => this.toDevice.pruneReceivedMessageIds(now - REMEMBER_MESSAGE_IDS_MS));
  }
}
