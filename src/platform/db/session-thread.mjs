// The connection of a kept-alive DbSession (postgres.ts, openSession with keepAliveMs). It lives in
// this worker thread so that its keep-alive depends on the process being scheduled, not on the main
// thread's event loop: a main thread busy for a second (start-up on a loaded machine, a long
// synchronous replay, a large GC) must not lose a session-held lease, while a paused process
// (SIGSTOP, a frozen VM) stops this thread too, goes silent and loses it. A main thread stalled
// longer than `stallBudgetMs` stops ticking; the keep-alive then stops as well, so a hung process
// cannot hold a lease for ever. Plain JS (no loader in a worker); rows go back as text and are
// parsed on the main thread with the pool's own type mapping.
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';

const { connectionString, idleTimeoutMs, keepAliveMs, stallBudgetMs } = workerData;
const asText = { getTypeParser: () => (text) => text };
const client = new pg.Client({ connectionString, types: asText, keepAlive: true });
let inFlight = 0;
let lastTick = Date.now();
let gone = false;
let timer;

const describe = (err) => ({
  message: err?.message ?? String(err),
  code: err?.code,
  severity: err?.severity,
  detail: err?.detail,
});
const lost = (err) => {
  if (gone) return;
  gone = true;
  clearInterval(timer);
  parentPort.postMessage({ lost: describe(err) });
};
client.on('error', lost);
client.on('end', () => lost(new Error('the database ended the session')));

async function query(sql, params, simple = false) {
  inFlight++;
  try {
    if (simple) {
      await client.query(sql); // several statements, no parameters (DbSession.exec)
      return { fields: [], rows: [], rowCount: 0 };
    }
    return await client.query({ text: sql, values: params ?? [], queryMode: 'extended', rowMode: 'array' });
  } finally {
    inFlight--;
  }
}

parentPort.on('message', async (m) => {
  if (m.tick) {
    lastTick = Date.now();
    return;
  }
  if (m.close) {
    gone = true;
    clearInterval(timer);
    await client.end().catch(() => {});
    parentPort.postMessage({ closed: true });
    return;
  }
  try {
    const r = await query(m.sql, m.params, m.simple === true);
    const fields = r.fields.map((f) => f.dataTypeID);
    const names = r.fields.map((f) => f.name);
    parentPort.postMessage({ id: m.id, names, fields, rows: r.rows, rowCount: r.rowCount ?? 0 });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: describe(err) });
  }
});

try {
  await client.connect();
  if (idleTimeoutMs !== undefined)
    await client.query(`SET idle_session_timeout = ${Math.max(1, Math.floor(idleTimeoutMs))}`);
  const pid = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  // Only when nothing is running: a statement in flight (a blocking pg_advisory_lock) is activity
  // already, and a queued SELECT 1 behind it would only pile up.
  timer = setInterval(() => {
    if (gone || inFlight > 0 || Date.now() - lastTick > stallBudgetMs) return;
    query('SELECT 1').catch(lost);
  }, keepAliveMs);
  parentPort.postMessage({ ready: { pid } });
} catch (err) {
  gone = true;
  parentPort.postMessage({ failed: describe(err) });
  await client.end().catch(() => {});
}
