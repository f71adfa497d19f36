/**
 * Worker thread for `bench:market-data`: opens N WebSocket subscribers to the market-data stream,
 * authenticates each, subscribes it to the trades of the given symbols, and reports every second
 * how many messages arrived and their delivery latency (receive time − the trade's ts, in ms).
 * Runs in its own thread so that the subscribers do not share the server's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

interface Input {
  url: string;
  token: string;
  subscribers: number;
  symbols: string[];
}

const input = workerData as Input;
const port = parentPort!;
let received = 0;
let latencies: number[] = [];
let closedEarly = 0;
const sockets: WebSocket[] = [];

function open(): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(input.url, { perMessageDeflate: false });
    sockets.push(ws);
    let ready = false;
    ws.on('open', () => ws.send(JSON.stringify({ action: 'auth', token: input.token })));
    ws.on('message', (data: Buffer) => {
      const now = Date.now();
      const text = data.toString();
      // a frame may carry one message or an array of them
      const parsed = JSON.parse(text) as unknown;
      const messages = (Array.isArray(parsed) ? parsed : [parsed]) as { type: string; ts?: number }[];
      for (const m of messages) {
        if (m.type === 'trade') {
          received++;
          if (typeof m.ts === 'number') latencies.push(now - m.ts);
        } else if (m.type === 'ready') {
          ws.send(JSON.stringify({ action: 'subscribe', trades: input.symbols }));
        } else if (m.type === 'subscribed' && !ready) {
          ready = true;
          resolve();
        }
      }
    });
    ws.on('close', () => {
      if (!ready) reject(new Error('closed before subscribing'));
      else closedEarly++;
    });
    ws.on('error', (err) => {
      if (!ready) reject(err);
    });
  });
}

async function main(): Promise<void> {
  // open in waves so the server's accept queue is not flooded
  for (let i = 0; i < input.subscribers; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, input.subscribers - i) }, () => open()));
  }
  port.postMessage({ type: 'ready' });
  setInterval(() => {
    port.postMessage({ type: 'tick', received, latencies, closedEarly });
    received = 0;
    latencies = [];
  }, 1000);
  port.on('message', (m: { type: string }) => {
    if (m.type === 'stop') {
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    }
  });
}

main().catch((err: unknown) => {
  port.postMessage({ type: 'error', message: String(err) });
});
