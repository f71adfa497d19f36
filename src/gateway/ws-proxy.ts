/**
 * The services' WebSockets (users: `/notifications/stream`; market data: `/v1/market-data/stream`),
 * each piped through to an instance of its service chosen by the balancer: the upgrade request is replayed on a fresh connection and the
 * two sockets are joined. Anything else that asks to upgrade is refused.
 */
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Upstream } from './upstream/upstream.ts';

export function pipeWebSockets(
  server: { on(event: 'upgrade', l: (req: IncomingMessage, s: Duplex, head: Buffer) => void): unknown },
  /** stream path → the service that serves it (absent: not configured) */
  streams: Record<string, Upstream | undefined>,
): { closeAll(): void } {
  // a stream never ends by itself, and the server's close does not wait for upgraded sockets:
  // the gateway ends them when it closes, and clients reconnect to another gateway
  const open = new Set<Duplex>();
  server.on('upgrade', (req, socket, head) => {
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
    const upstream: Socket = connect(Number(url.port || 80), url.hostname, () => {
      const lines = [`GET ${url.pathname.replace(/\/+$/, '')}${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
  });
  return {
    closeAll: () => {
      for (const socket of open) socket.destroy();
    },
  };
}
