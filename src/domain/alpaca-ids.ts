/**
 * Identifiers in Alpaca's shapes. Alpaca SDKs parse order, asset and account ids as UUIDs, so our
 * numeric order ids travel as UUIDs that encode them reversibly:
 *
 *   order 1234 ⇄ b0a5e000-0000-4000-8000-0000000004d2
 *
 * (the version nibble 4 and variant 8 make it a well-formed RFC 9562 UUID; the 53 bits of an order
 * id sit in the 3rd group's last 3 digits and the 5th group). Asset ids are name-based (v5) UUIDs
 * of the symbol, stable across restarts and instances.
 */
import { createHash } from 'node:crypto';

const ORDER_UUID = /^b0a5e000-0000-4([0-9a-f]{3})-8000-([0-9a-f]{12})$/i;
const LOW = 2 ** 48;

export function orderUuid(id: number): string {
  const high = Math.floor(id / LOW);
  const low = id % LOW;
  return `b0a5e000-0000-4${high.toString(16).padStart(3, '0')}-8000-${low.toString(16).padStart(12, '0')}`;
}

/** The order id in one of our order UUIDs; null for any other string. */
export function orderIdOf(uuid: string): number | null {
  const m = ORDER_UUID.exec(uuid);
  if (!m) return null;
  const id = Number.parseInt(m[1]!, 16) * LOW + Number.parseInt(m[2]!, 16);
  return id >= 1 && Number.isSafeInteger(id) ? id : null;
}

const cache = new Map<string, string>();

/** RFC 9562 v5 UUID of `bourse:asset:<SYMBOL>`. */
export function assetUuid(symbol: string): string {
  let id = cache.get(symbol);
  if (id) return id;
  const h = createHash('sha1').update(`bourse:asset:${symbol}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  if (cache.size < 100_000) cache.set(symbol, id);
  return id;
}

/** A human account number for a user id (a UUID): stable, short, upper case. */
export const accountNumber = (userId: string): string =>
  `BRS${userId.replaceAll('-', '').slice(0, 9).toUpperCase()}`;
