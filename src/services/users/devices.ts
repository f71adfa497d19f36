/**
 * Device tokens (OWASP's "device cookies"): a login that succeeds gets a token naming this user and
 * a random device id, signed with a key derived from BOURSE_SECRET. A later login for the same user
 * that presents it is throttled as that device alone, not with the anonymous clients, so someone
 * guessing the user's password from elsewhere cannot keep the owner out. It proves a past login on
 * this device, nothing more: it is no credential.
 *
 *   d1.<user id>.<device id>.<expiry, epoch s>.<HMAC-SHA256, base64url>
 *
 * Sent back by the client as the `bourse-device` header or the `bourse_device` cookie.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export { DEVICE_COOKIE, DEVICE_HEADER, presentedDeviceToken } from './client.ts';

export interface DeviceTokens {
  issue(userId: string, nowMs: number): { token: string; maxAgeSec: number };
  /** The device id when `token` is a live token of `userId`; otherwise null. */
  verify(token: string | undefined, userId: string, nowMs: number): string | null;
}

export function createDeviceTokens(key: Buffer, ttlSec: number): DeviceTokens {
  const sign = (body: string) => createHmac('sha256', key).update(body, 'utf8').digest('base64url');
  return {
    issue(userId, nowMs) {
      const body = `d1.${userId}.${randomBytes(16).toString('base64url')}.${Math.floor(nowMs / 1000) + ttlSec}`;
      return { token: `${body}.${sign(body)}`, maxAgeSec: ttlSec };
    },
    verify(token, userId, nowMs) {
      if (token === undefined || token.length > 256) return null;
      const parts = token.split('.');
      if (parts.length !== 5 || parts[0] !== 'd1' || parts[1] !== userId) return null;
      const mac = Buffer.from(parts[4]!, 'utf8');
      const expected = Buffer.from(sign(parts.slice(0, 4).join('.')), 'utf8');
      if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return null;
      const expiry = Number(parts[3]);
      if (!Number.isSafeInteger(expiry) || expiry * 1000 <= nowMs) return null;
      return parts[2]!;
    },
  };
}
