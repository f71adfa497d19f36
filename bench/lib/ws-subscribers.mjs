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
let frames = 0;
const TRADE = Buffer.from('{"type":"trade"');
/** @type {WebSocket[]} */
const sockets = [];

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(input.url, { perMessageDeflate: false });
    sockets.push(ws);
    let ready = false;
    ws.on('open', () => ws.send(JSON.stringify({ action: 'auth', token: input.token })));
    ws.on('message', (data) => {
      // the client must cost little next to the server: trades are counted in the raw frame (one
      // object, or an array of them), and one frame in 16 is parsed for the latency of its first
      if (ready && (data[0] === 91 || data[9] === 116) /* [ or the t of {"type":"trade" */) {
        let n = 0;
        for (let at = data.indexOf(TRADE); at !== -1; at = data.indexOf(TRADE, at + TRADE.length)) n++;
        received += n;
        if ((++frames & 15) === 0) {
          const parsed = JSON.parse(data.toString());
          const first = Array.isArray(parsed) ? parsed[0] : parsed;
          const sent = Date.parse(first.ts);
          if (!Number.isNaN(sent)) latencies.push(Date.now() - sent);
        }
        return;
      }
      const m = JSON.parse(data.toString());
      if (m.type === 'ready') {
        ws.send(JSON.stringify({ action: 'subscribe', trades: input.symbols }));
      } else if (m.type === 'subscribed' && !ready) {
        ready = true;
        resolve();
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
