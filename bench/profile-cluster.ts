/**
 * CPU profiles of a running `bourse cluster` under a fixed order rate (issue 11's per-order cost):
 * every Bourse process is started with the inspector on a free port; after a warm-up, each one's
 * V8 profiler runs for PROFILE_SECONDS while orders go through both gateways at PROFILE_RATE/s.
 * The .cpuprofile files (open them in Chrome DevTools) and a summary go to PROFILE_DIR (default
 * /tmp/bourse-cluster-profiles): CPU µs per order per process over the window (from /proc, idle
 * not subtracted), the JetStream messages stored per order by subject family, and per process
 * the self time by package and by function. The profiler samples wall time: on a shared machine a
 * process preempted in a system call is counted there, so compare shares within one profile.
 *
 *   node --import tsx bench/profile-cluster.ts
 *   PROFILE_RATE (80), PROFILE_SECONDS (15), PROFILE_ACCOUNTS (200), PROFILE_SYMBOLS (20)
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import WebSocket from 'ws';
import { type RunningCluster, startCluster } from '../src/cli/cluster-launch.ts';
import { fundedInvestors, UNLIMITED_RATES } from './lib/api.ts';
import { runStep } from './lib/load/generator.ts';
import type { GatewayContext } from './lib/load/workloads/gateway-orders.ts';
import { withScratchDatabase } from './lib/scratch-postgres.ts';

const RATE = Number(process.env.PROFILE_RATE ?? 80);
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 15);
const ACCOUNTS = Number(process.env.PROFILE_ACCOUNTS ?? 200);
const SYMBOLS = Number(process.env.PROFILE_SYMBOLS ?? 20);
const OUT = process.env.PROFILE_DIR ?? '/tmp/bourse-cluster-profiles';
const WARMUP_SECONDS = 4;
const ADMIN_PASSWORD = 'bench operator pass phrase 2026';
const PASSWORD = 'bench investor pass phrase 2026';
const ORDERS = new URL('./lib/load/workloads/gateway-orders.ts', import.meta.url).href;
const symbols = Array.from({ length: SYMBOLS }, (_, k) => `PRF${String(k).padStart(2, '0')}`);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A Chrome DevTools Protocol session over the inspector's WebSocket. */
async function inspect(url: string) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let next = 1;
  const pending = new Map<number, (r: { result?: unknown; error?: unknown }) => void>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: unknown };
    if (m.id !== undefined) pending.get(m.id)?.(m);
  });
  const send = (method: string, params: unknown = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = next++;
      pending.set(id, (r) => (r.error ? reject(new Error(JSON.stringify(r.error))) : resolve(r.result)));
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

async function inspectorUrl(logFile: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const m = /Debugger listening on (ws:\/\/\S+)/.exec(await readFile(logFile, 'utf8'));
    if (m) return m[1]!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no inspector URL in ${logFile}`);
}

async function cpuMsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** self time by function, and by where the code lives (a package, node internals, our files) */
function summarise(p: Profile): {
  total: number;
  byFunction: [string, number][];
  byPlace: [string, number][];
} {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + dt);
  }
  const fn = new Map<string, number>();
  const place = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    total += us;
    const file = url.replace(/^file:\/\/.*?\/(node_modules|src)\//, '$1/');
    fn.set(
      `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`,
      (fn.get(`${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`) ?? 0) + us,
    );
    let where: string;
    if (!url) where = functionName.startsWith('(') ? functionName : '(native)';
    else if (url.startsWith('node:')) where = url.split('/').slice(0, 2).join('/');
    else if (url.includes('/node_modules/')) {
      const rest = url.split('/node_modules/').pop()!.split('/');
      where = rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
    } else where = file.split('/').slice(0, 3).join('/');
    place.set(where, (place.get(where) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { total, byFunction: top(fn, 25), byPlace: top(place, 15) };
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  await withScratchDatabase('bourse_profile_cluster', async (databaseUrl) => {
    const cluster: RunningCluster = await startCluster({
      databaseUrl,
      redisUrl: 'redis://127.0.0.1:6379',
      env: {
        LOG_LEVEL: 'warn',
        NODE_OPTIONS: '--inspect=127.0.0.1:0',
        BOURSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        ...UNLIMITED_RATES,
      },
      onProgress: (line) => process.stderr.write(`  ${line}\n`),
    });
    try {
      const base = cluster.gateways[0]!;
      const accounts = await fundedInvestors(cluster.gateways, {
        adminPassword: ADMIN_PASSWORD,
        password: PASSWORD,
        symbols,
        names: Array.from({ length: ACCOUNTS }, (_, k) => `prf${String(k).padStart(5, '0')}`),
        cashCents: 1_000_000_000,
        shares: 1_000_000,
      });
      process.stderr.write(`  set up; ${RATE} orders/s for ${WARMUP_SECONDS} + ${SECONDS} s\n`);
      const sessions = await Promise.all(
        cluster.processes.map(async (p) => ({ p, s: await inspect(await inspectorUrl(p.logFile)) })),
      );
      for (const { s } of sessions) {
        await s.send('Profiler.enable');
        await s.send('Profiler.setSamplingInterval', { interval: 500 });
      }
      const context: GatewayContext = { tokens: accounts.map((a) => a.token), symbols };
      const step = runStep({
        url: base,
        urls: [...cluster.gateways],
        threads: 2,
        rate: RATE,
        seconds: WARMUP_SECONDS + SECONDS,
        warmupSeconds: WARMUP_SECONDS,
        workload: ORDERS,
        context,
      });
      await new Promise((r) => setTimeout(r, 700 + WARMUP_SECONDS * 1000));
      const all = [
        ...cluster.nats.nodes.map((n) => ({ name: `nats-${n.name}`, pid: n.child.pid })),
        ...cluster.processes.map((p) => ({ name: p.name, pid: p.child.pid })),
      ];
      const nc = await connect({ servers: cluster.nats.urls.split(',') });
      const jsm = await jetstreamManager(nc);
      /** stored messages by subject family (md.trade, orders.exec, …) */
      const families = async () => {
        const info = await jsm.streams.info('BOURSE', { subjects_filter: '>' });
        const out = new Map<string, number>();
        for (const [subject, n] of Object.entries(info.state.subjects ?? {})) {
          const family = subject.split('.').slice(0, 2).join('.');
          out.set(family, (out.get(family) ?? 0) + n);
        }
        return out;
      };
      const stored0 = await families();
      const cpu0 = new Map(await Promise.all(all.map(async (x) => [x.name, await cpuMsOf(x.pid)] as const)));
      await Promise.all(sessions.map(({ s }) => s.send('Profiler.start')));
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
      const profiles = await Promise.all(
        sessions.map(async ({ p, s }) => ({
          p,
          profile: ((await s.send('Profiler.stop')) as { profile: Profile }).profile,
        })),
      );
      const seconds = (performance.now() - t0) / 1000;
      const cpu1 = new Map(await Promise.all(all.map(async (x) => [x.name, await cpuMsOf(x.pid)] as const)));
      const stored1 = await families();
      await nc.close();
      const result = await step;
      for (const { s } of sessions) s.close();
      const orders = RATE * seconds;
      const lines: string[] = [
        `${RATE} orders/s offered, ${result.achieved} achieved; p50 ${result.p50} ms p99 ${result.p99} ms; ` +
          `${result.errors} errors, ${result.overload} overload, ${result.rejected} rejected; window ${seconds.toFixed(1)} s`,
        '',
        'CPU µs per order over the window (from /proc, idle not subtracted):',
      ];
      for (const x of all)
        lines.push(
          `  ${x.name.padEnd(16)} ${(((cpu1.get(x.name)! - cpu0.get(x.name)!) * 1000) / orders).toFixed(0).padStart(7)}`,
        );
      lines.push('', 'JetStream messages stored per order over the window, by subject family:');
      for (const [family, n] of [...stored1].sort((a, b) => b[1] - a[1]))
        lines.push(
          `  ${family.padEnd(22)} ${((n - (stored0.get(family) ?? 0)) / orders).toFixed(2).padStart(6)}`,
        );
      for (const { p, profile } of profiles) {
        await writeFile(join(OUT, `${p.name}.cpuprofile`), JSON.stringify(profile));
        const s = summarise(profile);
        const pct = (us: number) => `${((100 * us) / s.total).toFixed(1).padStart(5)} %`;
        const idle = s.byPlace.find(([w]) => w === '(idle)')?.[1] ?? 0;
        lines.push(
          '',
          `== ${p.name}: ${(s.total / 1000).toFixed(0)} ms sampled, ${((s.total - idle) / 1000).toFixed(0)} ms not idle`,
        );
        lines.push('  by place:');
        for (const [w, us] of s.byPlace) lines.push(`    ${pct(us)} ${w}`);
        lines.push('  by function (self):');
        for (const [f, us] of s.byFunction) lines.push(`    ${pct(us)} ${f}`);
      }
      await writeFile(join(OUT, 'summary.txt'), `${lines.join('\n')}\n`);
      console.log(lines.join('\n'));
    } finally {
      await cluster.stop();
    }
  });
}

await main();
