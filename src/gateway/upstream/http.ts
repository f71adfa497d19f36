/**
 * HTTP to one service instance over a keep-alive undici Pool: a raw `send` for the requests the
 * gateway forwards as they are, and a `fetch` the services' typed clients take (client.ts of each
 * service accepts one), so the typed calls share the pool. Every request carries the caller's
 * request id, and each attempt records how it failed: the retry policy needs to know whether
 * anything reached the instance.
 */
import type { Readable } from 'node:stream';
import { Pool } from 'undici';

export interface Attempt {
  requestId: string;
  /** the instance's answer status, once it answered */
  status?: number;
  /** transport failure (undici / socket error code) */
  failure?: { code: string; message: string };
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
  close(): Promise<void>;
}

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

function headerRecord(init: RequestInit['headers']): Record<string, string> {
  if (!init) return {};
  if (init instanceof Headers) return Object.fromEntries(init.entries());
  if (Array.isArray(init)) return Object.fromEntries(init);
  return { ...(init as Record<string, string>) };
}

/** Mutual TLS to the services (BOURSE_INTERNAL_TLS_*): the CA to trust, and the certificate to present. */
export interface UpstreamTls {
  ca: string | Buffer;
  cert: string | Buffer;
  key: string | Buffer;
}

export function createInstancePool(url: string, connections: number, tls?: UpstreamTls): InstancePool {
  const origin = new URL(url);
  const base = origin.pathname.replace(/\/+$/, '');
  const pool = new Pool(origin.origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    ...(tls && { connect: { ca: tls.ca, cert: tls.cert, key: tls.key } }),
  });

  async function send(request: RawRequest, attempt: Attempt, timeoutMs: number): Promise<RawResponse> {
    try {
      const res = await pool.request({
        method: request.method as 'GET',
        path: base + request.path,
        headers: { ...request.headers, 'x-request-id': attempt.requestId },
        body: request.body,
        // a streamed body pauses while the service writes what it has read: allow for that
        headersTimeout: isStreamed(request.body) ? Math.max(timeoutMs, STREAM_TIMEOUT_MS) : timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      attempt.status = res.statusCode;
      return { status: res.statusCode, headers: res.headers as Record<string, string | string[]>, body };
    } catch (err) {
      attempt.failure = failureOf(err);
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
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (Array.isArray(value)) for (const v of value) headers.append(name, v);
          else if (value !== undefined) headers.set(name, value);
        }
        return new Response(NULL_BODY.has(res.status) ? null : res.body, { status: res.status, headers });
      }) as typeof fetch;
    },
    close: () => pool.close(),
  };
}
