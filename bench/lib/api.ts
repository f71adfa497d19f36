/** The public API as the benches' set-up calls it (registering, funding, listing): not the load. */
import { dollars, REFERENCE_PRICE_CENTS } from './load/order-mix.ts';

/** Rate limits on, but far above what any bench offers: the limiter's cost is in the figures, not its refusals. */
export const UNLIMITED = '1000000/1000000';

/** The environment that sets every bucket of a Bourse process to UNLIMITED. */
export const UNLIMITED_RATES: Record<string, string> = {
  BOURSE_RATE_ORDERS: UNLIMITED,
  BOURSE_RATE_READS: UNLIMITED,
  BOURSE_RATE_LOGIN: UNLIMITED,
  BOURSE_RATE_LOGIN_IP: UNLIMITED,
  BOURSE_RATE_LOGIN_USER: UNLIMITED,
};

/**
 * One JSON call; a 503 (an upstream still starting, a leader being elected) is retried every
 * 250 ms, up to `attempts` times, anything else not 2xx throws with the answer.
 */
export async function call<T>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  attempts = 40,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.ok) return (text ? JSON.parse(text) : undefined) as T;
    if (res.status === 503 && attempt < attempts) {
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  }
}

/** `fn` over the items, `width` at a time (argon2id hashing makes registrations CPU-bound). */
export async function inBatches<T, R>(
  items: T[],
  width: number,
  fn: (item: T, k: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let k = 0; k < items.length; k += width)
    out.push(...(await Promise.all(items.slice(k, k + width).map((item, j) => fn(item, k + j)))));
  return out;
}

/** The admin's access token. */
export async function adminLogin(base: string, password: string): Promise<string> {
  return (await call<{ access_token: string }>(base, 'POST', '/auth/login', { username: 'admin', password }))
    .access_token;
}

/** Lists each symbol at the order mix's reference price, bands and collars at 20 %. */
export async function listSymbols(base: string, admin: string, symbols: readonly string[]): Promise<void> {
  for (const symbol of symbols)
    await call(
      base,
      'POST',
      '/v1/admin/instruments',
      { symbol, reference_price: dollars(REFERENCE_PRICE_CENTS), price_band_pct: 20, collar_pct: 20 },
      admin,
    );
}

/**
 * Registers and logs in one investor per name, through the gateways in turn; password hashing
 * (argon2id) is the cost here, so a few at a time keep both cores busy.
 */
export function registerInvestors(
  gateways: readonly string[],
  names: string[],
  password: string,
): Promise<{ id: string; token: string }[]> {
  return inBatches(names, 8, async (username, k) => {
    const via = gateways[k % gateways.length]!;
    const { id } = await call<{ id: string }>(via, 'POST', '/users', {
      username,
      email: `${username}@bench.example.com`,
      password,
    });
    const { access_token } = await call<{ access_token: string }>(via, 'POST', '/auth/login', {
      username,
      password,
    });
    return { id, token: access_token };
  });
}

/**
 * A market to send orders to: the symbols listed, one investor per name registered (through the
 * gateways in turn) and funded with `cashCents` of cash and `shares` of one symbol (in turn).
 */
export async function fundedInvestors(
  gateways: readonly string[],
  o: {
    adminPassword: string;
    password: string;
    symbols: readonly string[];
    names: string[];
    cashCents: number;
    shares: number;
  },
): Promise<{ id: string; token: string }[]> {
  const base = gateways[0]!;
  const admin = await adminLogin(base, o.adminPassword);
  await listSymbols(base, admin, o.symbols);
  const accounts = await registerInvestors(gateways, o.names, o.password);
  await inBatches(accounts, 16, async ({ id }, k) => {
    await call(
      base,
      'POST',
      '/v1/admin/funding',
      { account_id: id, direction: 'deposit', amount: dollars(o.cashCents), idempotency_key: `bench-${id}` },
      admin,
    );
    await call(
      base,
      'POST',
      '/v1/admin/transfers',
      {
        account_id: id,
        symbol: o.symbols[k % o.symbols.length],
        qty: o.shares,
        cost: dollars(o.shares * REFERENCE_PRICE_CENTS),
      },
      admin,
    );
  });
  return accounts;
}
