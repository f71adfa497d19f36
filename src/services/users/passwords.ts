/**
 * Password hashing (argon2id) and the password policy.
 *
 * Policy (NIST SP 800-63B style: length over composition rules):
 * - 12 to 128 characters (the schema enforces the bounds; 128 keeps hashing cost bounded);
 * - well-formed Unicode (a lone surrogate would be hashed as U+FFFD, so two different strings
 *   would share one hash), compared after NFKC normalisation so that the same password typed on
 *   two keyboards is the same password;
 * - at least 5 distinct characters (refuses 'aaaaaaaaaaaa', '121212121212');
 * - must not contain the username, the email address or its local part (case-insensitive).
 */
import argon2, { type HashOptions } from 'argon2';
import { PASSWORD_MAX, PASSWORD_MIN } from './patterns.ts';

export interface Argon2Params {
  /** KiB */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1. */
export const OWASP_ARGON2ID: Argon2Params = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export { PASSWORD_MAX, PASSWORD_MIN };

const MIN_DISTINCT = 5;

/** No lone surrogates (in `u` mode a proper pair is one code point, so only lone halves match). */
export function isWellFormed(s: string): boolean {
  return !/\p{Cs}/u.test(s);
}

export function normalizePassword(pw: string): string {
  return pw.normalize('NFKC');
}

/** Why the password is refused, or null when it is acceptable. */
export function passwordPolicyViolation(
  password: string,
  ctx: { username?: string; email?: string },
): string | null {
  if (!isWellFormed(password)) return 'must be well-formed Unicode';
  const pw = normalizePassword(password);
  const chars = [...pw];
  if (chars.length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`;
  if (chars.length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`;
  if (new Set(chars).size < MIN_DISTINCT) return `must contain at least ${MIN_DISTINCT} different characters`;
  const lower = pw.toLowerCase();
  const banned: string[] = [];
  if (ctx.username) banned.push(ctx.username.toLowerCase());
  if (ctx.email) {
    const email = ctx.email.toLowerCase();
    banned.push(email);
    const local = email.split('@')[0] ?? '';
    if (local.length >= 3) banned.push(local);
  }
  for (const b of banned) {
    if (b.length > 0 && lower.includes(b)) return 'must not contain your username or email address';
  }
  return null;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** `rehash` when the stored hash used weaker parameters than the current ones. */
  verify(hash: string, password: string): Promise<{ ok: boolean; rehash: boolean }>;
  /** Spends the time of one verification, for unknown users: the answer must not tell them apart. */
  burn(password: string): Promise<void>;
}

export function createPasswordHasher(params: Argon2Params): PasswordHasher {
  const options: HashOptions = { type: argon2.argon2id, ...params };
  let dummy: Promise<string> | undefined;
  const dummyHash = () => {
    dummy ??= argon2.hash('bourse dummy password, never matches', options);
    return dummy;
  };
  return {
    hash: (password) => argon2.hash(normalizePassword(password), options),
    async verify(hash, password) {
      let ok = false;
      try {
        ok = await argon2.verify(hash, normalizePassword(password));
      } catch {
        // a malformed stored hash is a failed verification, never a crash of the login route
        ok = false;
      }
      return { ok, rehash: ok && argon2.needsRehash(hash, params) };
    },
    async burn(password) {
      await argon2.verify(await dummyHash(), normalizePassword(password)).catch(() => false);
    },
  };
}
