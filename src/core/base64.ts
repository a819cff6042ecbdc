// Unpadded Base64 (appendices.md, "Unpadded Base64" and "URL-safe unpadded
// Base64"). Matrix always writes without `=` padding; readers SHOULD accept
// both padded and unpadded input.

export function encodeBase64(bytes: Uint8Array): string {
  return toBuffer(bytes).toString('base64').replace(/=+$/, '');
}

export function encodeBase64Url(bytes: Uint8Array): string {
  // Node's base64url alphabet is RFC 4648 section 5 and never pads.
  return toBuffer(bytes).toString('base64url');
}

export class Base64Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Base64Error';
  }
}

const STANDARD_ONLY = /[+/]/;
const URL_SAFE_ONLY = /[-_]/;
const SHAPE = /^[A-Za-z0-9+/_-]*(={0,2})$/;

/**
 * Decodes standard or URL-safe Base64, padded or not. Node's own decoder
 * silently skips characters it does not know, so the input is checked first:
 * anything that is not Base64 throws. Non-zero trailing bits are accepted, as
 * other implementations do (the spec's own test key seed has them).
 */
export function decodeBase64(text: string): Buffer {
  const shape = SHAPE.exec(text);
  if (shape === null) throw new Base64Error(`not Base64: ${describe(text)} contains characters outside the Base64 alphabets`);
  if (STANDARD_ONLY.test(text) && URL_SAFE_ONLY.test(text)) {
    throw new Base64Error(`not Base64: ${describe(text)} mixes the standard (+/) and URL-safe (-_) alphabets`);
  }
  const padding = shape[1]!.length;
  const data = text.length - padding;
  if (padding > 0 && text.length % 4 !== 0) {
    throw new Base64Error(`not Base64: ${describe(text)} has "=" padding but its length is not a multiple of 4`);
  }
  if (data % 4 === 1) throw new Base64Error(`not Base64: ${describe(text)} has an impossible length (${data} characters)`);
  if (padding > 0 && (data % 4) + padding !== 4) {
    throw new Base64Error(`not Base64: ${describe(text)} has the wrong amount of "=" padding`);
  }
  return Buffer.from(text.slice(0, data), URL_SAFE_ONLY.test(text) ? 'base64url' : 'base64');
}

/** Like decodeBase64, but returns null instead of throwing. */
export function tryDecodeBase64(text: string): Buffer | null {
  try {
    return decodeBase64(text);
  } catch {
    return null;
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function describe(text: string): string {
  return text.length > 40 ? `${JSON.stringify(text.slice(0, 40))}…` : JSON.stringify(text);
}
