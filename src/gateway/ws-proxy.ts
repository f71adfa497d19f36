/**
 * The services' WebSockets (users: `/notifications/stream`; market data: `/v1/market-data/stream`),
 * each piped through to an instance of its service chosen by the balancer: the upgrade request is
 * replayed on a fresh connection and the two sockets are joined. Anything else that asks to
 * upgrade is refused. The replayed request carries the internal token (the services' servers
 * require it) and never the client's own `x-bourse-*` headers; over TLS when the services serve
 * it (mutual TLS).
 *
 * Slow readers are bounded end to end. A service cuts a reader off (4008) when its own WebSocket
 * buffer passes its bound, but it only sees that buffer grow if the relay stops reading for a
 * reader that has stopped: so once more than `highWaterBytes` wait for the client here, the
 * relay pauses the upstream socket, and the kernel queues behind it fill until the service's
 * bound trips. A client that then does not drain for `stallMs` (a quiet stream may never fill
 * the service's buffer) is cut off here: both sockets are destroyed. The relay itself holds at
 * most `highWaterBytes` plus one read per connection.
 */
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as connectTls } from 'node:tls';
import { internalTokenHeader } from '../platform/http/forwarded-identity.ts';
import type { UpstreamTls } from '../platform/http/upstream/http.ts';
import type { Upstream } from '../platform/http/upstream/upstream.ts';

export interface WsRelayOptions {
  /** bytes waiting for the client beyond which the upstream socket is paused (default 256 KiB) */
  highWaterBytes?: number;
  /** a paused client that does not drain for this long is cut off (default 10 s) */
  stallMs?: number;
}

export interface WsRelayStats {
  /** connections being relayed */
  open: number;
  /** connections cut off because the client stopped draining */
  stalledClosed: number;
  /** the most bytes ever waiting for one client in this process (the relay's own buffer) */
  maxBufferedBytes: number;
}

export const DEFAULT_WS_HIGH_WATER_BYTES = 256 * 1024;
export const DEFAULT_WS_STALL_MS = 10_000;

export function pipeWebSockets(
  server: { on(event: 'upgrade', l: (req: IncomingMessage, s: Duplex, head: Buffer) => void): unknown },
  /** stream path → the service that serves it (absent: not configured) */
  streams: Record<string, Pick<Upstream, 'pick'> | undefined>,
  opts: {
    internalToken: string;
    tls?: UpstreamTls | undefined;
    /** the gateway's own streams (the Alpaca trading stream): true when it took the upgrade */
    local?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  } & WsRelayOptions,
): { stats(): WsRelayStats; closeAll(): void } {
  const internal = Object.entries(internalTokenHeader(opts.internalToken)).map(([k, v]) => `${k}: ${v}`);
  const highWater = opts.highWaterBytes ?? DEFAULT_WS_HIGH_WATER_BYTES;
  const stallMs = opts.stallMs ?? DEFAULT_WS_STALL_MS;
  const stats: WsRelayStats = { open: 0, stalledClosed: 0, maxBufferedBytes: 0 };
  // a stream never ends by itself, and the server's close does not wait for upgraded sockets:
  // the gateway ends them when it closes, and clients reconnect to another gateway
  const open = new Set<Duplex>();

  server.on('upgrade', (req, socket, head) => {
    if (opts.local?.(req, socket, head)) return;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    const path = (req.url ?? '').split('?')[0] ?? '';
    const known = Object.hasOwn(streams, path);
    const target = known ? streams[path]?.pick() : undefined;
    if (!target) {
      socket.end(`HTTP/1.1 ${known ? '503 Service Unavailable' : '404 Not Found'}\r\n\r\n`);
      return;
    }
    const url = new URL(target);
    stats.open++;
    let stall: NodeJS.Timeout | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      stats.open--;
      clearTimeout(stall);
      socket.destroy();
      upstream.destroy();
    };
    /** the client has until then to take what waits for it */
    const armStall = () => {
      if (stall !== undefined) return;
      stall = setTimeout(() => {
        stats.stalledClosed++;
        finish();
      }, stallMs);
      stall.unref();
    };
    const secure = url.protocol === 'https:';
    const port = Number(url.port || (secure ? 443 : 80));
    const onConnect = () => {
      const lines = [`GET ${url.pathname.replace(/\/+$/, '')}${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i] ?? '';
        if (!name.toLowerCase().startsWith('x-bourse-')) lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
      }
      lines.push(...internal);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      // client → service: the services read whatever comes, so plain backpressure is enough
      socket.pipe(upstream);
      // service → client: relayed by hand to watch what waits for the client
      upstream.on('data', (chunk: Buffer) => {
        socket.write(chunk);
        const buffered = socket.writableLength;
        if (buffered > stats.maxBufferedBytes) stats.maxBufferedBytes = buffered;
        if (buffered > highWater && !upstream.isPaused()) {
          upstream.pause();
          armStall();
        }
      });
      upstream.on('end', () => socket.end());
    };
    const upstream: Socket = secure
      ? connectTls({ port, host: url.hostname, ...opts.tls }, onConnect)
      : connect(port, url.hostname, onConnect);
    socket.on('drain', () => {
      clearTimeout(stall);
      stall = undefined;
      if (upstream.isPaused() && !upstream.destroyed) upstream.resume();
    });
    upstream.on('error', finish);
    // the service has closed (with 4008, say): what is left still goes to the client, if it drains
    upstream.on('close', () => (socket.writableLength > 0 ? armStall() : socket.end()));
    socket.on('error', finish);
    socket.on('close', finish);
  });

  return {
    stats: () => ({ ...stats }),
    closeAll: () => {
      for (const socket of open) socket.destroy();
    },
  };
}
