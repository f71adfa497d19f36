/**
 * The services' WebSockets (users: `/notifications/stream`; market data: `/v1/market-data/stream`),
 * each piped through to an instance of its service chosen by the balancer: the upgrade request is replayed on a fresh connection and the
 * two sockets are joined. Anything else that asks to upgrade is refused. The replayed request carries
 * the internal token (the services' servers require it) and never the client's own `x-bourse-*`
 * headers; over TLS when the services serve it (mutual TLS).
 */
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as connectTls } from 'node:tls';
import { internalTokenHeader } from '../platform/http/forwarded-identity.ts';
import type { UpstreamTls } from './upstream/http.ts';
import type { Upstream } from './upstream/upstream.ts';

export function pipeWebSockets(
  server: { on(event: 'upgrade', l: (req: IncomingMessage, s: Duplex, head: Buffer) => void): unknown },
  /** stream path → the service that serves it (absent: not configured) */
  streams: Record<string, Upstream | undefined>,
  opts: { internalToken: string; tls?: UpstreamTls | undefined },
): void {
  const internal = Object.entries(internalTokenHeader(opts.internalToken)).map(([k, v]) => `${k}: ${v}`);
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const known = Object.hasOwn(streams, path);
    const target = known ? streams[path]?.pick() : undefined;
    if (!target) {
      socket.end(`HTTP/1.1 ${known ? '503 Service Unavailable' : '404 Not Found'}\r\n\r\n`);
      return;
    }
    const url = new URL(target);
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
      socket.pipe(upstream).pipe(socket);
    };
    const upstream: Socket = secure
      ? connectTls({ port, host: url.hostname, ...opts.tls }, onConnect)
      : connect(port, url.hostname, onConnect);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
  });
}
