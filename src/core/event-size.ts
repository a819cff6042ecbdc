// Size limits on events (client-server-api/_index.md, "Size limits"; the
// server-server API applies the same limits to PDUs it receives). Pure, so
// the local event pipeline and, later, the federation receiver check events
// the same way.

/** The complete event, in the federation format with signatures, as canonical JSON. */
export const MAX_EVENT_BYTES = 65_536;
/** `sender`, `room_id`, `state_key`, `type` and `event_id` (the identifier limit for the IDs). */
export const MAX_EVENT_KEY_BYTES = 255;

/** The top-level keys the spec caps, as an event carries them. */
export interface SizedEvent {
  sender: string;
  type: string;
  room_id?: string;
  state_key?: string;
  event_id?: string;
}

/**
 * Why `event` is too large, as a sentence naming the part and both sizes, or
 * undefined when it is within the limits. `canonicalPdu` is the event in the
 * federation format, signed, as canonical JSON; sizes are UTF-8 bytes.
 */
export function eventSizeViolation(event: SizedEvent, canonicalPdu: string): string | undefined {
  const total = Buffer.byteLength(canonicalPdu, 'utf8');
  if (total > MAX_EVENT_BYTES) {
    return `The event is ${total} bytes as canonical JSON (signatures included); events may be at most ${MAX_EVENT_BYTES} bytes`;
  }
  const keys: Array<[string, string | undefined]> = [
    ['sender', event.sender],
    ['room_id', event.room_id],
    ['state_key', event.state_key],
    ['type', event.type],
    ['event_id', event.event_id],
  ];
  for (const [key, value] of keys) {
    const bytes = value === undefined ? 0 : Buffer.byteLength(value, 'utf8');
    if (bytes > MAX_EVENT_KEY_BYTES) return `The event's ${key} is ${bytes} bytes; it may be at most ${MAX_EVENT_KEY_BYTES} bytes`;
  }
  return undefined;
}
