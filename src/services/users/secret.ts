/**
 * The master secret (BOURSE_SECRET) and the purpose-bound keys derived from it with HKDF-SHA256.
 * Each purpose has its own key, so that no key is ever used for two things.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';

export const SECRET_MIN_LENGTH = 32;

export interface DerivedKeys {
  /** encrypts JWT private keys at rest */
  keyEncryption: Buffer;
  /** HMAC key for stored credential hashes (API key secrets, refresh tokens, throttle keys) */
  credentialPepper: Buffer;
  /** shared token that the HTTP UsersClient presents on /internal routes */
  internalToken: string;
  /** HMAC key that signs device tokens (devices.ts) */
  deviceTokenKey: Buffer;
}

/**
 * The configured secret, or in the embedded default (no secret, a data dir) one generated once
 * into `<dataDir>/secret` with mode 0600. The secret itself is never logged.
 */
export async function resolveSecret(
  cfg: { secret?: string | undefined; dataDir?: string | undefined },
  logger: FastifyBaseLogger,
): Promise<string> {
  if (cfg.secret !== undefined && cfg.secret !== '') {
    if (cfg.secret.length < SECRET_MIN_LENGTH) {
      throw new Error(`BOURSE_SECRET must be at least ${SECRET_MIN_LENGTH} characters`);
    }
    return cfg.secret;
  }
  if (!cfg.dataDir) {
    throw new Error('users service: set BOURSE_SECRET (or BOURSE_DATA_DIR for a generated one)');
  }
  const path = join(cfg.dataDir, 'secret');
  await mkdir(cfg.dataDir, { recursive: true, mode: 0o700 });
  try {
    // 'wx': never overwrite a secret another process just wrote (two instances starting at once)
    await writeFile(path, randomBytes(32).toString('base64url') + '\n', { flag: 'wx', mode: 0o600 });
    logger.warn({ path }, 'no BOURSE_SECRET configured: generated a new secret file (keep it private)');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = await stat(path);
  if ((st.mode & 0o077) !== 0) {
    logger.warn({ path }, 'secret file was readable by others: restricting it to 0600');
    await chmod(path, 0o600);
  }
  const secret = (await readFile(path, 'utf8')).trim();
  if (secret.length < SECRET_MIN_LENGTH)
    throw new Error(`${path} holds a secret shorter than ${SECRET_MIN_LENGTH}`);
  return secret;
}

export function deriveKeys(secret: string): DerivedKeys {
  const derive = (info: string) =>
    Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), `bourse/users/${info}`, 32));
  return {
    keyEncryption: derive('jwt-key-encryption/v1'),
    credentialPepper: derive('credential-hmac/v1'),
    internalToken: derive('internal-token/v1').toString('base64url'),
    deviceTokenKey: derive('device-token/v1'),
  };
}

/** Keyed hash for high-entropy credentials (hex). */
export function credentialHash(pepper: Buffer, value: string): string {
  return createHmac('sha256', pepper).update(value, 'utf8').digest('hex');
}

/** AES-256-GCM; `aad` binds the ciphertext to its row so that it cannot be moved to another. */
export function seal(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return [
    'v1',
    iv.toString('base64url'),
    ct.toString('base64url'),
    c.getAuthTag().toString('base64url'),
  ].join('.');
}

/** Throws when the ciphertext was not sealed with this key and aad. */
export function open(key: Buffer, sealed: string, aad: string): string {
  const [v, iv, ct, tag] = sealed.split('.');
  if (v !== 'v1' || !iv || !ct || !tag) throw new Error('unknown sealed format');
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
}
