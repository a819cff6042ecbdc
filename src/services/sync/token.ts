// Sync tokens (`since`, `next_batch`) carry one position per stream. They are
// opaque to clients; ours read `s<events>_<account_data>_<receipts>_<typing>_
// <presence>_<to_device>_<device_lists>` so they can be compared and logged.
import { invalidParam } from '../../core/errors.js';
import { STREAMS, type StreamName } from '../notifier.js';

export type StreamPositions = Record<StreamName, number>;

export function formatSyncToken(positions: StreamPositions): string {
  return `s${STREAMS.map((s) => positions[s]).join('_')}`;
}

/** Parses a token; a missing trailing position (an older token) reads as 0. */
export function parseSyncToken(token: string): StreamPositions {
  const match = /^s(\d+(?:_\d+)*)$/.exec(token);
  if (!match) throw invalidParam(`'${token}' is not a sync token issued by this server`);
  const numbers = match[1]!.split('_').map(Number);
  if (numbers.length > STREAMS.length || numbers.some((n) => !Number.isSafeInteger(n))) {
    throw invalidParam(`'${token}' is not a sync token issued by this server`);
  }
  return Object.fromEntries(STREAMS.map((s, i) => [s, numbers[i] ?? 0])) as StreamPositions;
}
