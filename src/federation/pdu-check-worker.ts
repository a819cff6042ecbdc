// A worker thread of the PDU check pool (pdu-check-pool.ts): runs the pure
// checks on receipt over the batches it is sent and posts the outcomes back.
import { parentPort } from 'node:worker_threads';
import { roomVersion } from '../core/room-versions.js';
import type { KnownKeys, VerifyKey } from './event-signatures.js';
import { checkReceivedPdu, type PduReceipt } from './pdu-receipt.js';
import type { PduCheckRequest, PduCheckResponse } from './pdu-check-pool.js';

parentPort?.on('message', (request: PduCheckRequest) => {
  const response: PduCheckResponse = { id: request.id, receipts: checkBatch(request) };
  parentPort!.postMessage(response);
});

function checkBatch(request: PduCheckRequest): PduReceipt[] {
  const rules = roomVersion(request.roomVersion);
  if (!rules) return request.pdus.map(() => ({ ok: false, failure: 'format', message: `room version ${request.roomVersion} is not supported` }));
  const keys = knownKeys(request.keys);
  return request.pdus.map((pdu) => checkReceivedPdu(pdu, rules, keys, { roomId: request.roomId, history: request.history }));
}

/** Structured cloning turns the keys' Buffers into plain Uint8Arrays; verification wants Buffers. */
function knownKeys(entries: PduCheckRequest['keys']): KnownKeys {
  return new Map(
    entries.map(([serverName, keys]) => [serverName, new Map(keys.map((k): [string, VerifyKey] => [k.keyId, { ...k, key: Buffer.from(k.key.buffer, k.key.byteOffset, k.key.byteLength) }]))]),
  );
}
