// Cross-signing (end_to_end_encryption.md, "Cross-signing"): the master,
// self-signing and user-signing keys, and signatures uploaded on devices and
// master keys.
import type { JsonObject, JsonValue } from '../../core/types.js';
import { badJson, forbidden, invalidParam, missingParam, notFound } from '../../core/errors.js';
import type { Database } from '../../storage/database.js';
import type { CrossSigningKeyType, KeyStore, StoredSignature, ViewerChange } from '../../storage/e2ee/index.js';
import type { UserInteractiveAuth } from '../accounts/uia.js';
import { STAGE_PASSWORD } from '../accounts/uia.js';
import type { DeviceStore } from '../../storage/accounts/index.js';
import {
  deviceSigningKeyOf,
  ed25519PublicKey,
  invalidSignature,
  isObject,
  sameKey,
  signedBy,
  withoutUnsigned,
  type KeyFailure,
} from './common.js';
import type { DeviceListService } from './device-lists.js';

export interface SigningKeysUpload {
  master_key?: JsonValue;
  self_signing_key?: JsonValue;
  user_signing_key?: JsonValue;
}

const FIELDS: ReadonlyArray<[keyof SigningKeysUpload, CrossSigningKeyType]> = [
  ['master_key', 'master'],
  ['self_signing_key', 'self_signing'],
  ['user_signing_key', 'user_signing'],
];

interface CrossSigningKey {
  type: CrossSigningKeyType;
  publicKey: string;
  key: JsonObject;
}

export class CrossSigningService {
  constructor(
    private readonly db: Database,
    private readonly store: KeyStore,
    private readonly devices: Pick<DeviceStore, 'get'>,
    private readonly uia: UserInteractiveAuth,
    private readonly deviceLists: DeviceListService,
  ) {}

  /**
   * # POST /keys/device_signing/upload
   * UIA (m.login.password) is needed only to replace keys: the first upload
   * and a repeat of the stored keys go through without it (cross_signing.yaml).
   */
  async uploadSigningKeys(userId: string, upload: SigningKeysUpload, auth: JsonObject | undefined): Promise<void> {
    const existing = await this.store.getCrossSigningKeys(userId);
    const provided = FIELDS.flatMap(([field, type]) => {
      const value = upload[field];
      return value === undefined || value === null ? [] : [parseCrossSigningKey(value, field, type, userId)];
    });
    const replacesNothing = !existing.has('master');
    const changes = provided.filter((k) => !isSameAsStored(k, existing));
    if (!replacesNothing && changes.length > 0) {
      const done = await this.uia.authenticate({ operation: `device_signing_upload:${userId}`, flows: [[STAGE_PASSWORD]], auth, userId });
      await this.uia.finish(done);
    }
    if (changes.length === 0) return;

    const master = provided.find((k) => k.type === 'master') ?? storedKey(existing, 'master');
    if (!master) throw missingParam('No master key is available: upload master_key with (or before) the other keys');
    for (const k of provided) {
      if (k.type === 'master') continue;
      if (!signedBy(k.key, userId, `ed25519:${master.publicKey}`, master.publicKey)) {
        throw invalidSignature(`The ${k.type} key must be signed by the master key ed25519:${master.publicKey}`);
      }
    }
    for (const k of provided) {
      if (await this.devices.get(userId, k.publicKey)) throw forbidden(`Key ID in use: ${k.publicKey} is one of your device IDs`);
    }
    const position = await this.db.transaction(async (tx) => {
      for (const k of provided) await this.store.setCrossSigningKey(tx, userId, k.type, k.publicKey, k.key);
      // The master and self-signing keys are what others verify the user's
      // devices with: everyone sharing a room with them, here and on other
      // servers, must fetch them again.
      if (!changes.some((k) => k.type !== 'user_signing')) return undefined;
      return this.deviceLists.recordLocalChange({ userId, crossSigning: true });
    });
    if (position !== undefined) await this.deviceLists.announce(position, [userId]);
    // The user-signing key is private to its owner (/keys/query returns it
    // to them alone; other servers never see it): as Synapse, only the
    // user's own devices are told it changed.
    if (changes.some((k) => k.type === 'user_signing')) await this.deviceLists.changedFor([{ viewerUserId: userId, userId, kind: 'changed' }]);
  }

  /**
   * # POST /keys/signatures/upload
   * Accepted: the user's self-signing key signing their own devices, their
   * devices signing their master key, and their user-signing key signing
   * another user's master key. Each rejected object is reported in `failures`.
   */
  async uploadSignatures(userId: string, body: JsonObject): Promise<Record<string, Record<string, KeyFailure>>> {
    const failures: Record<string, Record<string, KeyFailure>> = {};
    const accepted: StoredSignature[] = [];
    const own = await this.store.getCrossSigningKeys(userId);
    for (const [targetUserId, objects] of Object.entries(body)) {
      if (!isObject(objects)) throw badJson(`'${targetUserId}' must map key IDs to signed objects`);
      const targetKeys = targetUserId === userId ? own : await this.store.getCrossSigningKeys(targetUserId);
      for (const [keyId, signed] of Object.entries(objects)) {
        try {
          if (!isObject(signed)) throw badJson(`The object for ${keyId} must be a JSON object`);
          accepted.push(...(await this.checkSignature(userId, own, targetUserId, targetKeys, keyId, signed)));
        } catch (err) {
          const e = err as { errcode?: string; message: string };
          (failures[targetUserId] ??= {})[keyId] = { errcode: e.errcode ?? 'M_UNKNOWN', error: e.message };
        }
      }
    }
    if (accepted.length > 0) await this.storeSignatures(userId, accepted, own.get('master')?.publicKey);
    return failures;
  }

  private async checkSignature(
    userId: string,
    own: Map<CrossSigningKeyType, { publicKey: string; key: JsonObject }>,
    targetUserId: string,
    targetKeys: Map<CrossSigningKeyType, { publicKey: string; key: JsonObject }>,
    keyId: string,
    signed: JsonObject,
  ): Promise<StoredSignature[]> {
    const targetMaster = targetKeys.get('master');
    if (targetUserId !== userId) {
      // Another user's master key, signed by our user-signing key.
      const userSigning = own.get('user_signing');
      if (!userSigning) throw invalidParam('Upload a user-signing key before signing other users');
      if (!targetMaster || targetMaster.publicKey !== keyId) throw notFoundKey(targetUserId, keyId);
      return [this.signatureFrom(signed, targetMaster.key, { userId, publicKey: userSigning.publicKey }, targetUserId, keyId)];
    }
    if (targetMaster && targetMaster.publicKey === keyId) {
      // Our own master key, signed by one of our devices.
      return this.deviceSignaturesOnMaster(userId, signed, targetMaster.key, keyId);
    }
    // One of our devices, signed by our self-signing key.
    const device = await this.store.getDeviceKeys(userId, keyId);
    if (!device) throw notFoundKey(userId, keyId);
    const selfSigning = own.get('self_signing');
    if (!selfSigning) throw invalidParam('Upload a self-signing key before signing your devices');
    return [this.signatureFrom(signed, device, { userId, publicKey: selfSigning.publicKey }, userId, keyId)];
  }

  /** The signature by `signerPublicKey` on `signed`, which must be the stored key plus signatures. */
  private signatureFrom(
    signed: JsonObject,
    stored: JsonObject,
    signer: { userId: string; publicKey: string; keyId?: string },
    targetUserId: string,
    targetKeyId: string,
  ): StoredSignature {
    if (!sameKey(withoutSignatures(signed), withoutSignatures(stored))) {
      throw invalidSignature(`The signed object does not match the stored key ${targetKeyId} of ${targetUserId}`);
    }
    const { userId: signerUserId, publicKey: signerPublicKey } = signer;
    const signerKeyId = signer.keyId ?? `ed25519:${signerPublicKey}`;
    if (!signedBy(signed, signerUserId, signerKeyId, signerPublicKey)) throw invalidSignature(`Invalid signature by ${signerKeyId}`);
    const signature = (signed.signatures as Record<string, Record<string, string>>)[signerUserId]![signerKeyId]!;
    return { signerUserId, signerKeyId, targetUserId, targetKeyId, signature };
  }

  private async deviceSignaturesOnMaster(userId: string, signed: JsonObject, master: JsonObject, masterPublicKey: string): Promise<StoredSignature[]> {
    if (!sameKey(withoutSignatures(signed), withoutSignatures(master))) {
      throw invalidSignature(`The signed object does not match your master key ${masterPublicKey}`);
    }
    const byUser = isObject(signed.signatures) ? signed.signatures[userId] : undefined;
    const found: StoredSignature[] = [];
    for (const signerKeyId of Object.keys(isObject(byUser) ? byUser : {})) {
      const deviceId = signerKeyId.startsWith('ed25519:') ? signerKeyId.slice('ed25519:'.length) : '';
      if (deviceId === masterPublicKey) continue; // the master key's own signature
      const device = deviceId && (await this.store.getDeviceKeys(userId, deviceId));
      const devicePublicKey = device ? deviceSigningKeyOf(device, deviceId) : undefined;
      if (!devicePublicKey) continue;
      found.push(this.signatureFrom(signed, master, { userId, publicKey: devicePublicKey, keyId: signerKeyId }, userId, masterPublicKey));
    }
    if (found.length === 0) throw invalidSignature(`No valid signature by one of your devices on the master key ${masterPublicKey}`);
    return found;
  }

  /** Stores the signatures; own keys are a device-list change for the user's watchers, another user's only for the signer. */
  private async storeSignatures(userId: string, signatures: StoredSignature[], masterKey: string | undefined): Promise<void> {
    const ownTargets = new Set(signatures.filter((s) => s.targetUserId === userId).map((s) => s.targetKeyId));
    const position = await this.db.transaction(async (tx) => {
      await this.store.addSignatures(tx, signatures);
      if (ownTargets.size === 0) return undefined;
      const devices = [...ownTargets].filter((keyId) => keyId !== masterKey);
      return this.deviceLists.recordLocalChange({ userId, devices, crossSigning: masterKey !== undefined && ownTargets.has(masterKey) });
    });
    if (position !== undefined) await this.deviceLists.announce(position, [userId]);
    const others: ViewerChange[] = [...new Set(signatures.filter((s) => s.targetUserId !== userId).map((s) => s.targetUserId))].map((target) => ({
      viewerUserId: userId,
      userId: target,
      kind: 'changed',
    }));
    await this.deviceLists.changedFor(others);
  }
}

/**
 * One CrossSigningKey (definitions/cross_signing_key.yaml): the uploader's
 * user_id, the usage it is uploaded as, and exactly one ed25519 key whose ID
 * names the key itself.
 */
function parseCrossSigningKey(value: JsonValue, field: string, type: CrossSigningKeyType, userId: string): CrossSigningKey {
  if (!isObject(value)) throw badJson(`'${field}' must be an object`);
  if (value.user_id !== userId) throw invalidParam(`'${field}.user_id' must be your user ID ${userId}`);
  const usage = value.usage;
  if (!Array.isArray(usage) || usage.some((u) => typeof u !== 'string')) throw badJson(`'${field}.usage' must be an array of strings`);
  if (!usage.includes(type)) throw invalidParam(`'${field}.usage' must include '${type}'`);
  const keys = value.keys;
  if (!isObject(keys) || Object.keys(keys).length !== 1) throw invalidParam(`'${field}.keys' must hold exactly one key`);
  const [keyId, publicKey] = Object.entries(keys)[0]!;
  if (typeof publicKey !== 'string' || keyId !== `ed25519:${publicKey}` || ed25519PublicKey(publicKey) === undefined) {
    throw invalidParam(`'${field}.keys' must be {"ed25519:<public key>": "<public key>"} with a 32-byte unpadded base64 key`);
  }
  if (value.signatures !== undefined && !isObject(value.signatures)) throw badJson(`'${field}.signatures' must be an object`);
  return { type, publicKey, key: withoutUnsigned(value) };
}

function isSameAsStored(key: CrossSigningKey, existing: Map<CrossSigningKeyType, { publicKey: string; key: JsonObject }>): boolean {
  const stored = existing.get(key.type);
  return stored !== undefined && sameKey(stored.key, key.key);
}

function storedKey(existing: Map<CrossSigningKeyType, { publicKey: string; key: JsonObject }>, type: CrossSigningKeyType): CrossSigningKey | undefined {
  const stored = existing.get(type);
  return stored && { type, ...stored };
}

function withoutSignatures(obj: JsonObject): JsonObject {
  const { signatures: _signatures, unsigned: _unsigned, ...rest } = obj;
  return rest;
}

function notFoundKey(userId: string, keyId: string): Error {
  return notFound(`No key ${keyId} is known for ${userId}`);
}
