/**
 * Worker thread for `bench:market-data`: opens N WebSocket subscribers to the market-data stream,
 * authenticates each, subscribes it to the trades of the given symbols, and reports every second
 * how many messages arrived and their delivery latency (receive time − the trade's ts, in ms).
 * Runs in its own thread so that the subscribers do not share the server's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

/** @type {{ url: string, token: string, subscribers: number, symbols: string[] }} */
const input = workerData;
const port = parentPort;
let received = 0;
/** @type {number[]} */
let latencies = [];
let closedEarly = 0;
/** @type {WebSocket[]} */
const sockets = [];

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(input.url, { perMessageDeflate: false });
    sockets.push(ws);
    let ready = false;
    ws.on('open', () => ws.send(JSON.stringify({ action: 'auth', token: input.token })));
    ws.on('message', (data) => {
      const now = Date.now();
      const text = data.toString();
      // a frame may carry one message or an array of them
      const parsed = JSON.parse(text);
      const messages = Array.isArray(parsed) ? parsed : [parsed];
      for (const m of messages) {
        if (m.type === 'trade') {
          received++;
          const sent = typeof m.ts === 'string' ? Date.parse(m.ts) : m.ts;
          if (typeof sent === 'number' && !Number.isNaN(sent)) latencies.push(now - sent);
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

async function main() {
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
  port.on('message', (m) => {
    if (m.type === 'stop') {
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    }
  });
}

main().catch((err) => {
  port.postMessage({ type: 'error', message: String(err) });
});
