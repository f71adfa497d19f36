/**
 * A TCP-level stand-in for one service instance, in front of a real one: it forwards requests, can
 * be stopped and started again on the same port (an instance dying and coming back), and can drop
 * the connection after the real instance has answered (the answer is lost after the commit).
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FlakyProxy {
  url: string;
  /** requests forwarded, by method and path */
  seen: string[];
  /** the next `n` requests matching are forwarded, then their connection is cut before the answer */
  dropAnswers(n: number, match?: (method: string, path: string) => boolean): void;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startFlakyProxy(target: string, port = 0): Promise<FlakyProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  let drops = 0;
  let dropMatch: (method: string, path: string) => boolean = () => true;
  const seen: string[] = [];

  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    if (!path.startsWith('/healthz')) seen.push(`${method} ${path}`);
    const drop = drops > 0 && dropMatch(method, path);
    if (drop) drops--;
    const out = request(
      { host: upstream.hostname, port: upstream.port, method, path, headers: req.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          if (drop) {
            req.socket.destroy();
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(Buffer.concat(chunks));
        });
      },
    );
    out.on('error', () => req.socket.destroy());
    req.pipe(out);
  };

  let server: Server;
  let boundPort = port;
  const start = () =>
    new Promise<void>((resolve) => {
      server = createServer(handler);
      server.on('connection', (s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      server.listen(boundPort, '127.0.0.1', () => {
        boundPort = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  await start();

  return {
    url: `http://127.0.0.1:${boundPort}`,
    seen,
    dropAnswers(n, match = () => true) {
      drops = n;
      dropMatch = match;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
    start,
  };
}
