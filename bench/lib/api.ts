/** The public API as the benches' set-up calls it (registering, funding, listing): not the load. */

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
