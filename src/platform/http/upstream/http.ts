/**
 * HTTP to one service instance over a keep-alive undici Pool: a raw `send` for the requests the
 * gateway forwards as they are (and the balanced fetch of fetch.ts), and a `fetch` the services'
 * typed clients take (client.ts of each service accepts one), so the typed calls share the pool. Every request carries the caller's
 * request id, and each attempt records how it failed: the retry policy needs to know whether
 * anything reached the instance.
 *
 * A request undici would refuse to build (a header value it rejects, a bad path) is checked here
 * before it is handed over: undici's pool loses the connection slot of a request its dispatcher
 * throws on, so each one used to wedge one connection for good. Such a request is the caller's
 * error (`attempt.unsendable`), nothing is sent, and the instance is not blamed for it.
 */
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import { type Deadline, deadline } from '../deadline.ts';

export interface Attempt {
  requestId: string;
  /** the instance's answer status, once it answered */
  status?: number;
  /** transport failure (undici / socket error code) */
  failure?: { code: string; message: string };
  /** the request could not be built (nothing was sent): the caller's error, never the instance's */
  unsendable?: Unsendable;
  /** the role the instance answered with (the pool's `roleHeader`), e.g. an orders standby */
  role?: string;
}

export interface Unsendable {
  message: string;
  /** the header at fault, when it is one */
  header?: string;
}

/** Thrown for a request refused before anything was sent; `attempt.unsendable` says why. */
export class UnsendableRequest extends Error {
  constructor(readonly unsendable: Unsendable) {
    super(unsendable.message);
    this.name = 'UnsendableRequest';
  }
}

/** Failures where the request cannot have reached the instance's application. */
const NOTHING_SENT = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

export const nothingSent = (attempt: Attempt): boolean =>
  attempt.failure !== undefined && NOTHING_SENT.has(attempt.failure.code);

export interface RawRequest {
  method: string;
  /** path and query */
  path: string;
  headers: Record<string, string>;
  /** a stream is piped as it is read (chunked), for bodies too large to hold */
  body?: string | Buffer | Readable;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export interface InstancePool {
  readonly url: string;
  send(request: RawRequest, attempt: Attempt, timeoutMs: number): Promise<RawResponse>;
  /** a fetch for a typed client; `attempt` collects what happened */
  fetchFor(attempt: Attempt, timeoutMs: number): typeof fetch;
  /** every connection is busy and requests wait for one */
  exhausted(): boolean;
  /** waits for what is in flight; `abort()` meanwhile ends it */
  close(): Promise<void>;
  /** ends every request in flight or waiting (they fail with ABORTED) and refuses new ones */
  abort(): void;
}

/** The failure code of a request ended by `abort()` (shutdown). */
export const ABORTED = 'BOURSE_UPSTREAM_ABORTED';

const STREAM_TIMEOUT_MS = 300_000;
const isStreamed = (body: RawRequest['body']): boolean =>
  body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body);

/** Statuses whose responses have no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

function failureOf(err: unknown): { code: string; message: string } {
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code =
    typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : String(e.name);
  return { code, message: String(e.message ?? err) };
}

/** RFC 9110 token (method, header name), and field-value as undici accepts it (obs-text included). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** undici's own path rule: no control characters, spaces or anything past Latin-1 */
const PATH = /^\/[\x21-\xff]*$/;
/** framing headers the pool sets itself: never a caller's */
const REFUSED_HEADERS = new Set(['transfer-encoding', 'keep-alive', 'upgrade', 'connection', 'expect']);

/** Why undici would refuse to build this request, or undefined when it can be sent. */
export function unsendable(request: RawRequest): Unsendable | undefined {
  if (!TOKEN.test(request.method)) return { message: 'invalid request method' };
  if (!PATH.test(request.path)) return { message: 'invalid request path' };
  for (const [name, value] of Object.entries(request.headers)) {
    if (!TOKEN.test(name)) return { message: 'invalid header name' };
    const lower = name.toLowerCase();
    if (typeof value !== 'string' || !FIELD_VALUE.test(value))
      return { message: `invalid ${lower} header`, header: lower };
    if (REFUSED_HEADERS.has(lower)) return { message: `${lower} header not allowed`, header: lower };
    if (lower === 'content-length' && !/^\d+$/.test(value))
      return { message: 'invalid content-length header', header: lower };
  }
  return undefined;
}

/** undici's refusal to build a request (thrown before anything is sent). */
const isBuildError = (err: unknown): boolean =>
  (err as { code?: unknown } | null)?.code === 'UND_ERR_INVALID_ARG';

/** A fetch's request headers as a plain record. */
export function headerRecord(init: RequestInit['headers']): Record<string, string> {
  if (!init) return {};
  if (init instanceof Headers) return Object.fromEntries(init.entries());
  if (Array.isArray(init)) return Object.fromEntries(init);
  return { ...(init as Record<string, string>) };
}

/** An instance's answer as a fetch Response. */
export function toResponse(res: RawResponse): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  return new Response(NULL_BODY.has(res.status) ? null : res.body, { status: res.status, headers });
}

/** Mutual TLS to the services (BOURSE_INTERNAL_TLS_*): the CA to trust, and the certificate to present. */
export interface UpstreamTls {
  ca: string | Buffer;
  cert: string | Buffer;
  key: string | Buffer;
}

/**
 * `roleHeader`: a response header naming the instance's role in its group (the orders service's
 * `bourse-orders-role: leader | standby | fenced`), copied into each attempt.
 */
export function createInstancePool(
  url: string,
  connections: number,
  tls?: UpstreamTls,
  roleHeader?: string,
): InstancePool {
  const origin = new URL(url);
  const base = origin.pathname.replace(/\/+$/, '');
  const newPool = () =>
    new Pool(origin.origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      ...(tls && { connect: { ca: tls.ca, cert: tls.cert, key: tls.key } }),
    });
  let pool = newPool();
  /** set by `abort()`, which ends every request of this pool (their deadlines), waiting ones included */
  let shutDown = false;
  const inFlight = new Set<Deadline>();

  async function dispatch(request: RawRequest, attempt: Attempt, timeoutMs: number): Promise<RawResponse> {
    const streamed = isStreamed(request.body);
    // the whole call, waiting for a free connection included (undici's timeouts start once sent)
    const limit = deadline(streamed ? undefined : timeoutMs);
    if (shutDown) limit.abort();
    inFlight.add(limit);
    try {
      const res = await pool.request({
        method: request.method as 'GET',
        path: base + request.path,
        headers: { ...request.headers, 'x-request-id': attempt.requestId },
        body: request.body,
        signal: limit.signal,
        // a streamed body pauses while the service writes what it has read: allow for that
        headersTimeout: streamed ? Math.max(timeoutMs, STREAM_TIMEOUT_MS) : timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      attempt.status = res.statusCode;
      const role = roleHeader === undefined ? undefined : res.headers[roleHeader];
      if (typeof role === 'string') attempt.role = role;
      return { status: res.statusCode, headers: res.headers as Record<string, string | string[]>, body };
    } finally {
      limit.clear();
      inFlight.delete(limit);
    }
  }

  async function send(request: RawRequest, attempt: Attempt, timeoutMs: number): Promise<RawResponse> {
    const refused = unsendable(request);
    if (refused) {
      attempt.unsendable = refused;
      throw new UnsendableRequest(refused);
    }
    try {
      return await dispatch(request, attempt, timeoutMs);
    } catch (err) {
      if (isBuildError(err)) {
        // something the check above missed: the pool has lost a connection slot to it, so it is
        // replaced (the old one closes once its requests are done)
        const lost = pool;
        pool = newPool();
        void lost.close().catch(() => {});
        attempt.unsendable = { message: (err as Error).message };
        throw new UnsendableRequest(attempt.unsendable);
      }
      attempt.failure = shutDown ? { code: ABORTED, message: 'shutting down' } : failureOf(err);
      throw err;
    }
  }

  return {
    url,
    send,
    fetchFor(attempt, timeoutMs) {
      return (async (input: string | URL | Request, init: RequestInit = {}) => {
        const target =
          typeof input === 'string' ? new URL(input) : input instanceof URL ? input : new URL(input.url);
        const res = await send(
          {
            method: init.method ?? 'GET',
            path: target.pathname.slice(base.length) + target.search,
            headers: headerRecord(init.headers),
            body: typeof init.body === 'string' ? init.body : undefined,
          },
          attempt,
          timeoutMs,
        );
        return toResponse(res);
      }) as typeof fetch;
    },
    exhausted: () => pool.stats.queued > 0,
    close: () => pool.close(),
    abort: () => {
      shutDown = true;
      for (const limit of inFlight) limit.abort();
    },
  };
}
