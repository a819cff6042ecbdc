// Password hashing: argon2id for new hashes; bcrypt hashes imported from
// Synapse still verify. Passwords are NFKC-normalised first, as Synapse does,
// so a hash imported from Synapse matches the same typed password here.
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';

/** Synapse refuses longer passwords; so do we (hashing cost grows with length). */
export const MAX_PASSWORD_LENGTH = 512;

/**
 * OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): strong against GPU
 * guessing while keeping a login in the tens of milliseconds. The parameters
 * live in each hash, so raising them later leaves old hashes verifiable.
 */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export async function hashPassword(password: string): Promise<string> {
  return argon2.hash(password.normalize('NFKC'), ARGON2_OPTIONS);
}

export async function verifyPassword(password: string, hash: string | null): Promise<boolean> {
  if (hash === null) return false;
  const normalised = password.normalize('NFKC');
  if (hash.startsWith('$argon2')) return argon2.verify(hash, normalised);
  if (/^\$2[aby]\$/.test(hash)) return bcrypt.compare(normalised, hash);
  return false;
}
