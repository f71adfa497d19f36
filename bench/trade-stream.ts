/**
 * `npm run bench:trade-stream` — Alpaca's trading stream (`/stream`, trade_updates)
 * with many listening sockets, on NATS JetStream: `bourse start` (all-in-one, PGlite) in a child
 * process with its bus on NATS_URL (its own stream and subject prefix, deleted after), the sockets
 * in this process.
 *
 * BENCH_ACCOUNTS investors (default 20) register, each with an API key; BENCH_SOCKETS sockets
 * (default 200, the accounts in turn) connect at once, authenticate and listen. Measured:
 *   - the time until every socket has its `listening` reply;
 *   - the consumers on the NATS stream before, while the sockets listen, and after they close;
 *   - BENCH_ROUNDS rounds (default 5) of one resting order per account, placed at once: every
 *     socket must get its own account's `new` event and nothing else; the delivery latency is the
 *     socket's receive time minus the event's timestamp (the orders service's clock, the same
 *     machine's), per delivery and per round (until the last socket has it).
 *
 * Environment: NATS_URL (default nats://127.0.0.1:4222). Prints a summary, then as the last line
 * {"tradeStream":{…}}.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { WebSocket } from 'ws';
import { adminLogin, call, inBatches, listSymbols, registerInvestors, UNLIMITED_RATES } from './lib/api.ts';
import { type BourseProcess, startBourse } from './lib/bourse-process.ts';
import { dollars } from './lib/load/order-mix.ts';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 20);
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECRET = 'bench-trade-stream-secret-0123456789abcdef-not-for-production';
const ADMIN_PASSWORD = 'bench operator pass phrase 2026';
const PASSWORD = 'bench investor pass phrase 2026';
const SYMBOL = 'FANX';

interface Socket {
  ws: WebSocket;
  account: number;
  /** order id → receive time minus the event's timestamp, ms, for each `new` */
  news: Map<string, number>;
  /** any update that is not a `new` of one of its account's orders */
  stray: unknown[];
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

function openSocket(base: string, key: { id: string; secret: string }, account: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/stream`, { perMessageDeflate: false });
    const s: Socket = { ws, account, news: new Map(), stray: [] };
    let listening = false;
    ws.on('open', () =>
      ws.send(JSON.stringify({ action: 'authenticate', data: { key_id: key.id, secret_key: key.secret } })),
    );
    ws.on('message', (raw: Buffer) => {
      const at = Date.now();
      const m = JSON.parse(raw.toString('utf8')) as { stream?: string; data?: Record<string, unknown> };
      if (m.stream === 'trade_updates') {
        const u = m.data as { event: string; timestamp: string; order: { id: string } };
        if (u.event === 'new') s.news.set(u.order.id, at - Date.parse(u.timestamp));
        else s.stray.push(u);
      } else if (m.stream === 'authorization' && m.data?.status === 'authorized') {
        ws.send(JSON.stringify({ action: 'listen', data: { streams: ['trade_updates'] } }));
      } else if (m.stream === 'listening' && !listening) {
        listening = true;
        resolve(s);
      } else reject(new Error(`trade stream: ${JSON.stringify(m)}`));
    });
    ws.on('close', () => {
      if (!listening) reject(new Error('trade stream: closed before listening'));
    });
    ws.on('error', () => {});
  });
}

async function main(): Promise<void> {
  const id = `${Math.floor(Date.now() / 1000)}_${process.pid}`;
  const stream = `BENCH_TS_${id}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'bourse-bench-trade-stream-'));
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  const consumers = async (): Promise<number> => {
    let n = 0;
    for await (const _ of jsm.consumers.list(stream)) n++;
    return n;
  };
  let server: BourseProcess | undefined;
  const sockets: Socket[] = [];
  try {
    server = await startBourse('all', {
      BOURSE_DATA_DIR: dataDir,
      BOURSE_SECRET: SECRET,
      BOURSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BOURSE_DEMO: 'off',
      BOURSE_FIX_PORT: 'off',
      ...UNLIMITED_RATES,
      DATABASE_URL: '',
      REDIS_URL: '',
      NATS_URL,
      BOURSE_NATS_STREAM: stream,
      BOURSE_NATS_PREFIX: `bts${id}`,
    });
    const base = server.url;
    const admin = await adminLogin(base, ADMIN_PASSWORD);
    await listSymbols(base, admin, [SYMBOL]);
    const names = Array.from({ length: ACCOUNTS }, (_, k) => `ts${id.replace('_', '')}u${k}`);
    const accounts = await registerInvestors([base], names, PASSWORD);
    const keys = await inBatches(accounts, 8, async ({ id: account, token }) => {
      await call(
        base,
        'POST',
        '/v1/admin/funding',
        { account_id: account, direction: 'deposit', amount: dollars(100_000_00) },
        admin,
      );
      const k = await call<Record<string, string>>(base, 'POST', '/api-keys', { name: 'stream' }, token);
      return { id: (k.key_id ?? k.id)!, secret: (k.secret_key ?? k.secret)! };
    });

    const before = await consumers();
    const t0 = performance.now();
    sockets.push(
      ...(await Promise.all(
        Array.from({ length: SOCKETS }, (_, k) => openSocket(base, keys[k % ACCOUNTS]!, k % ACCOUNTS)),
      )),
    );
    const listenMs = performance.now() - t0;
    const listening = await consumers();
    console.log(
      `${SOCKETS} sockets of ${ACCOUNTS} accounts listening in ${listenMs.toFixed(0)} ms; ` +
        `NATS consumers on the stream: ${before} before, ${listening} while they listen`,
    );

    const deliveries: number[] = [];
    const roundMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const orders = await Promise.all(
        accounts.map(({ token }) =>
          call<{ id: string }>(
            base,
            'POST',
            '/v2/orders',
            // a resting buy well under the market: one `new` event, no trade
            {
              symbol: SYMBOL,
              qty: '1',
              side: 'buy',
              type: 'limit',
              time_in_force: 'day',
              limit_price: '9.00',
            },
            token,
          ),
        ),
      );
      const deadline = Date.now() + 30_000;
      while (!sockets.every((s) => s.news.has(orders[s.account]!.id))) {
        if (Date.now() > deadline) throw new Error(`round ${round}: not every socket got its event in 30 s`);
        await new Promise((r) => setTimeout(r, 5));
      }
      const lags = sockets.map((s) => s.news.get(orders[s.account]!.id)!);
      deliveries.push(...lags);
      roundMs.push(Math.max(...lags));
    }
    // exactly its own account's events, once each: nothing another account placed
    await new Promise((r) => setTimeout(r, 500));
    const wrong = sockets.filter((s) => s.news.size !== ROUNDS || s.stray.length > 0).length;
    console.log(
      `delivery latency over ${deliveries.length} deliveries (event time → socket): ` +
        `p50 ${percentile(deliveries, 50)} ms, p99 ${percentile(deliveries, 99)} ms, max ${Math.max(...deliveries)} ms; ` +
        `per round, until the last socket: ${roundMs.join(', ')} ms; sockets with a wrong set of events: ${wrong}`,
    );

    for (const s of sockets) s.ws.close();
    const closing = Date.now();
    let after = await consumers();
    while (after > before && Date.now() - closing < 10_000) {
      await new Promise((r) => setTimeout(r, 100));
      after = await consumers();
    }
    console.log(`NATS consumers on the stream after the sockets closed: ${after}`);
    console.log(
      JSON.stringify({
        tradeStream: {
          accounts: ACCOUNTS,
          sockets: SOCKETS,
          listenMs: Math.round(listenMs),
          consumers: { before, listening, after },
          latencyMs: {
            p50: percentile(deliveries, 50),
            p99: percentile(deliveries, 99),
            max: Math.max(...deliveries),
            rounds: roundMs,
          },
          wrong,
        },
      }),
    );
  } finally {
    for (const s of sockets) s.ws.terminate();
    await server?.stop();
    await jsm.streams.delete(stream).catch(() => {});
    await nc.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
