// Real ed25519 keys for e2ee tests: signed device keys, one-time keys and
// cross-signing keys, signed the way clients sign them.
import { encodeBase64 } from '../../src/core/base64.js';
import type { LooseJsonObject } from '../../src/core/canonical-json.js';
import { generateSigningKey, signBytes, signedBytesOf, type SigningKey } from '../../src/core/signing.js';

export type Json = Record<string, unknown>;

/** Adds `userId`'s signature with `key` under `keyId` (which need not be the key's own version). */
export function signAs<T extends Json>(obj: T, userId: string, key: SigningKey, keyId: string): T {
  const signature = encodeBase64(signBytes(key, signedBytesOf(obj as unknown as LooseJsonObject)));
  const existing = (obj.signatures ?? {}) as Record<string, Record<string, string>>;
  return { ...obj, signatures: { ...existing, [userId]: { ...(existing[userId] ?? {}), [keyId]: signature } } };
}

export const publicKeyOf = (key: SigningKey): string => encodeBase64(key.publicKey);

export class TestDevice {
  readonly key = generateSigningKey();
  private nextKey = 0;

  constructor(
    readonly userId: string,
    readonly deviceId: string,
  ) {}

  get signingKeyId(): string {
    return `ed25519:${this.deviceId}`;
  }

  /** The device's self-signed identity keys. */
  deviceKeys(extra: Json = {}): Json {
    return signAs(
      {
        user_id: this.userId,
        device_id: this.deviceId,
        algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
        keys: { [`curve25519:${this.deviceId}`]: encodeBase64(generateSigningKey().publicKey), [this.signingKeyId]: publicKeyOf(this.key) },
        ...extra,
      },
      this.userId,
      this.key,
      this.signingKeyId,
    );
  }

  /** `count` signed_curve25519 keys, as one_time_keys. */
  oneTimeKeys(count: number, extra: Json = {}): Json {
    const out: Json = {};
    for (let i = 0; i < count; i++) {
      const id = `AAAA${String(this.nextKey++).padStart(4, '0')}`;
      out[`signed_curve25519:${id}`] = signAs({ key: encodeBase64(generateSigningKey().publicKey), ...extra }, this.userId, this.key, this.signingKeyId);
    }
    return out;
  }

  fallbackKey(id = 'FALLBACK1'): Json {
    return { [`signed_curve25519:${id}`]: signAs({ key: encodeBase64(generateSigningKey().publicKey), fallback: true }, this.userId, this.key, this.signingKeyId) };
  }
}

export interface CrossSigningSet {
  master: SigningKey;
  selfSigning: SigningKey;
  userSigning: SigningKey;
  body: { master_key: Json; self_signing_key: Json; user_signing_key: Json };
}

export function crossSigningKey(userId: string, usage: string, key: SigningKey, signer?: SigningKey): Json {
  const obj: Json = { user_id: userId, usage: [usage], keys: { [`ed25519:${publicKeyOf(key)}`]: publicKeyOf(key) } };
  return signer ? signAs(obj, userId, signer, `ed25519:${publicKeyOf(signer)}`) : obj;
}

/** A master key and the self-signing and user-signing keys it signs. */
export function crossSigningSet(userId: string): CrossSigningSet {
  const master = generateSigningKey();
  const selfSigning = generateSigningKey();
  const userSigning = generateSigningKey();
  return {
    master,
    selfSigning,
    userSigning,
    body: {
      master_key: crossSigningKey(userId, 'master', master),
      self_signing_key: crossSigningKey(userId, 'self_signing', selfSigning, master),
      user_signing_key: crossSigningKey(userId, 'user_signing', userSigning, master),
    },
  };
}
