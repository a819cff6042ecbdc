// PEM files of certificate authorities (federation_custom_ca_list): read and
// checked once at load so a wrong path or a key file given by mistake is a
// one-line config error, and read again by the TLS policy at start.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describeFsError } from './access.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export class CaFileError extends Error {}

/** The certificates in a PEM file, each as its own PEM block; throws CaFileError saying what is wrong. */
export function readPemCertificates(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CaFileError(describeFsError(path, err as NodeJS.ErrnoException, 'read', 'CA certificate file'));
  }
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new CaFileError(`${path} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)`);
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new CaFileError(`certificate ${i + 1} in ${path} cannot be parsed: ${(err as Error).message}`);
    }
  });
  return blocks;
}
