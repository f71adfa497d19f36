/** The Db contract, identical on PGlite and PostgreSQL: what every service may rely on. */
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { insertMany } from '../../src/platform/db/insert-many.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { forEachDb, makePostgresDb } from '../support/db.ts';
import { describeWithPostgres } from '../support/services.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let tables = 0;
const freshTable = () => `t${tables++}`;

forEachDb('Db contract', (makeDb) => {
  let db: Db;
  beforeAll(async () => {
    db = await makeDb({ migrations: false });
  });

  describe('type mapping', () => {
    it('maps result types the same way on both backends', async () => {
      const { rows } = await db.query(`SELECT
        42::int2 AS i2, 42::int4 AS i4, 9007199254740991::int8 AS i8, -9007199254740991::int8 AS i8min,
        12.50::numeric AS num, 1.5::float8 AS f8, true AS b, 'x'::text AS t,
        '2024-03-01T12:34:56.789Z'::timestamptz AS ts, '2024-03-01'::date AS d,
        '2024-03-01 12:34:56'::timestamp AS ts_local,
        '{"a":[1,{"b":null}]}'::jsonb AS jb, '[1,"two"]'::json AS j,
        ARRAY[1, NULL, 3]::int8[] AS i8s, ARRAY[1.10, 2]::numeric[] AS nums,
        ARRAY[ARRAY[1, 2], ARRAY[3, 4]]::int8[] AS grid, NULL::int8 AS nothing`);
      expect(rows[0]).toEqual({
        i2: 42,
        i4: 42,
        i8: Number.MAX_SAFE_INTEGER,
        i8min: Number.MIN_SAFE_INTEGER,
        num: '12.50',
        f8: 1.5,
        b: true,
        t: 'x',
        ts: new Date('2024-03-01T12:34:56.789Z'),
        d: '2024-03-01',
        ts_local: '2024-03-01 12:34:56',
        jb: { a: [1, { b: null }] },
        j: [1, 'two'],
        i8s: [1, null, 3],
        nums: ['1.10', '2'],
        grid: [
          [1, 2],
          [3, 4],
        ],
        nothing: null,
      });
    });

    it('throws on an int8 outside the safe-integer range instead of rounding it', async () => {
      await expect(db.query('SELECT 9007199254740992::int8 AS x')).rejects.toThrow(/safe integer range/);
      await expect(db.query('SELECT -9007199254740992::int8 AS x')).rejects.toThrow(/safe integer range/);
      await expect(db.query('SELECT ARRAY[9007199254740992]::int8[] AS x')).rejects.toThrow(
        /safe integer range/,
      );
      // and the connection is still usable
      expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });

    it('serialises parameters alike', async () => {
      const at = new Date('2024-05-06T07:08:09.123Z');
      const { rows } = await db.query(
        'SELECT $1::int8 AS n, $2::timestamptz AS at, $3::jsonb AS doc, $4::jsonb AS list, $5::numeric AS price, $6::int8[] AS ids, $7::text AS none',
        [123, at, { side: 'buy', qty: 5 }, JSON.stringify([1, 2]), '101.25', [1, 2, 3], null],
      );
      expect(rows[0]).toEqual({
        n: 123,
        at,
        doc: { side: 'buy', qty: 5 },
        list: [1, 2],
        price: '101.25',
        ids: [1, 2, 3],
        none: null,
      });
    });
  });

  describe('statements', () => {
    it('runs one statement per query() and several per exec()', async () => {
      const t = freshTable();
      await expect(db.query('SELECT 1; SELECT 2')).rejects.toThrow();
      await db.exec(
        `CREATE TABLE ${t} (id int8 PRIMARY KEY, v text); INSERT INTO ${t} VALUES (1, 'a'), (2, 'b')`,
      );
      const updated = await db.query(`UPDATE ${t} SET v = 'z'`);
      expect(updated.rowCount).toBe(2);
      const selected = await db.query(`SELECT * FROM ${t} ORDER BY id`);
      expect(selected).toEqual({
        rows: [
          { id: 1, v: 'z' },
          { id: 2, v: 'z' },
        ],
        rowCount: 2,
      });
    });

    it('runs a prepared statement again and again, in and out of transactions, on every connection', async () => {
      const t = freshTable();
      await db.exec(`CREATE TABLE ${t} (id int8 PRIMARY KEY, v text)`);
      const insert = `INSERT INTO ${t} (id, v) SELECT * FROM unnest($1::int8[], $2::text[])`;
      // more calls at once than the pool has connections: several connections prepare it
      await Promise.all(
        Array.from({ length: 24 }, (_, i) => db.query(insert, [[i * 2 + 1], [`a${i}`]], { prepare: true })),
      );
      await db.transaction(async (tx) => {
        await tx.query(insert, [[1000], ['tx']], { prepare: true });
        await tx.query(insert, [[1001], ['tx']], { prepare: true });
      });
      await expect(
        db.transaction(async (tx) => {
          await tx.query(insert, [[2000], ['gone']], { prepare: true });
          await tx.query(insert, [[1], ['duplicate']], { prepare: true });
        }),
      ).rejects.toMatchObject({ code: '23505' });
      const count = await db.query<{ n: number }>(`SELECT count(*)::int4 AS n FROM ${t}`, [], {
        prepare: true,
      });
      expect(count.rows[0]!.n).toBe(26);
      const select = `SELECT v FROM ${t} WHERE id = $1`;
      expect((await db.query(select, [1001], { prepare: true })).rows).toEqual([{ v: 'tx' }]);
      expect((await db.query(select, [2000], { prepare: true })).rows).toEqual([]);
    });

    it('binds scalar parameters of a prepared statement exactly as an unprepared one', async () => {
      // PGlite runs these as EXECUTE with literals (pglite.ts): quotes, backslashes and JSON must
      // arrive as they were sent, and a bad value fail the same way
      const t = freshTable();
      await db.exec(`CREATE TABLE ${t} (id int8 PRIMARY KEY, s text, b bool, j jsonb, at timestamptz)`);
      const insert = `INSERT INTO ${t} (id, s, b, j, at) SELECT $1, $2, $3, $4::jsonb, $5`;
      const tricky = `it's a \\'quote\\' ''; DROP TABLE ${t}; -- \\x00 é`;
      const json = JSON.stringify([{ k: "o'b", v: 'back\\slash', n: -1.5 }]);
      const at = new Date('2026-12-06T01:02:03.456Z');
      for (const prepare of [true, false]) {
        const id = prepare ? 1 : 2;
        const r = await db.query(insert, [id, tricky, true, json, at], { prepare });
        expect(r.rowCount).toBe(1);
        await db.query(insert, [id + 10, null, false, null, null], { prepare });
      }
      const rows = await db.query(`SELECT id, s, b, j, at FROM ${t} ORDER BY id`, [], { prepare: true });
      expect(rows.rows).toEqual([
        { id: 1, s: tricky, b: true, j: JSON.parse(json), at },
        { id: 2, s: tricky, b: true, j: JSON.parse(json), at },
        { id: 11, s: null, b: false, j: null, at: null },
        { id: 12, s: null, b: false, j: null, at: null },
      ]);
      await expect(db.query(insert, [1, 'again', true, '[]', at], { prepare: true })).rejects.toMatchObject({
        code: '23505',
      });
      await expect(
        db.query(insert, [3, 'x', true, '{not json', at], { prepare: true }),
      ).rejects.toMatchObject({
        code: '22P02',
      });
      await expect(
        db.query(insert, [4, 'nul\u0000byte', true, '[]', at], { prepare: true }),
      ).rejects.toThrow();
      expect((await db.query(`SELECT count(*)::int4 AS n FROM ${t}`)).rows).toEqual([{ n: 4 }]);
    });

    it('reports SQL errors with the PostgreSQL SQLSTATE code', async () => {
      const t = freshTable();
      await db.exec(`CREATE TABLE ${t} (id int8 PRIMARY KEY)`);
      await db.query(`INSERT INTO ${t} VALUES (1)`);
      await expect(db.query(`INSERT INTO ${t} VALUES (1)`)).rejects.toMatchObject({ code: '23505' });
    });
  });

  describe('transactions', () => {
    it('commits and returns the callback result', async () => {
      const t = freshTable();
      await db.exec(`CREATE TABLE ${t} (id int8)`);
      const result = await db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${t} VALUES (1), (2)`);
        return (await tx.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${t}`)).rows[0]!.n;
      });
      expect(result).toBe(2);
      expect((await db.query(`SELECT count(*)::int8 AS n FROM ${t}`)).rows).toEqual([{ n: 2 }]);
    });

    it('rolls back everything when the callback throws, rethrowing its error', async () => {
      const t = freshTable();
      await db.exec(`CREATE TABLE ${t} (id int8)`);
      const boom = new Error('boom');
      await expect(
        db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${t} VALUES (1)`);
          await tx.exec(`INSERT INTO ${t} VALUES (2); INSERT INTO ${t} VALUES (3)`);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect((await db.query(`SELECT * FROM ${t}`)).rows).toEqual([]);
    });

    it('rolls back when a statement fails, and the database stays usable', async () => {
      const t = freshTable();
      await db.exec(`CREATE TABLE ${t} (id int8 PRIMARY KEY)`);
      await expect(
        db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${t} VALUES (1)`);
          await tx.query(`INSERT INTO ${t} VALUES (1)`);
        }),
      ).rejects.toMatchObject({ code: '23505' });
      expect((await db.query(`SELECT * FROM ${t}`)).rows).toEqual([]);
      await db.transaction((tx) => tx.query(`INSERT INTO ${t} VALUES (1)`));
      expect((await db.query(`SELECT * FROM ${t}`)).rows).toEqual([{ id: 1 }]);
    });

    it('refuses a transaction handle used after the transaction ended', async () => {
      let leaked: Parameters<Parameters<Db['transaction']>[0]>[0] | undefined;
      await db.transaction(async (tx) => {
        leaked = tx;
      });
      await expect(leaked!.query('SELECT 1')).rejects.toThrow(/closed/i);
    });

    it('never runs a plain query inside someone else’s transaction', async () => {
      const t = freshTable();
      await db.exec(`CREATE TABLE ${t} (id int8, source text)`);
      let inside!: () => void;
      const txStarted = new Promise<void>((resolve) => (inside = resolve));
      const tx = db
        .transaction(async (q) => {
          await q.query(`INSERT INTO ${t} VALUES (1, 'tx')`);
          inside();
          await sleep(150); // plain queries arrive while the transaction is open
          throw new Error('roll back');
        })
        .catch((err: Error) => err.message);
      await txStarted;
      const [seen, , tx2] = await Promise.all([
        db.query(`SELECT source FROM ${t}`),
        db.query(`INSERT INTO ${t} VALUES (2, 'plain')`),
        tx,
      ]);
      expect(tx2).toBe('roll back');
      // Neither saw the uncommitted row nor was swept away by the rollback. (The plain SELECT and
      // INSERT run concurrently on PostgreSQL's pool, so the SELECT may or may not see 'plain'.)
      expect(seen.rows).not.toContainEqual({ source: 'tx' });
      expect((await db.query(`SELECT id, source FROM ${t}`)).rows).toEqual([{ id: 2, source: 'plain' }]);
    });

    it('keeps concurrent read-modify-write transactions correct', async () => {
      const t = freshTable();
      await db.exec(
        `CREATE TABLE ${t} (id int8 PRIMARY KEY, n int8 NOT NULL); INSERT INTO ${t} VALUES (1, 0)`,
      );
      const increments = 40;
      await Promise.all(
        Array.from({ length: increments }, () =>
          db.transaction(async (tx) => {
            const { rows } = await tx.query<{ n: number }>(`SELECT n FROM ${t} WHERE id = 1 FOR UPDATE`);
            await sleep(1);
            await tx.query(`UPDATE ${t} SET n = $1 WHERE id = 1`, [rows[0]!.n + 1]);
          }),
        ),
      );
      expect((await db.query(`SELECT n FROM ${t}`)).rows).toEqual([{ n: increments }]);
    });
  });

  describe('insertMany', () => {
    const columns = {
      id: 'int8',
      account: 'text',
      price: 'int8',
      qty: 'int8',
      notional: 'numeric',
      placed_at: 'timestamptz',
      meta: 'jsonb',
    } as const;
    const createTable = async (t: string) =>
      db.exec(`CREATE TABLE ${t} (id int8 PRIMARY KEY, account text, price int8, qty int8,
        notional numeric, placed_at timestamptz, meta jsonb)`);

    it('inserts far more values than the 65535-parameter limit in one call', async () => {
      const t = freshTable();
      await createTable(t);
      const count = 25_000; // × 7 columns = 175,000 values
      const rows = Array.from({ length: count }, (_, i) => [
        i + 1,
        `acct-${i % 100}`,
        10_000 + (i % 750),
        100,
        `${i}.25`,
        new Date(1_700_000_000_000 + i),
        i % 2 ? { tags: ['x', i] } : [i, 'array'],
      ]);
      const inserted = await db.transaction((tx) => insertMany(tx, t, columns, rows));
      expect(inserted).toBe(count);
      const { rows: summary } = await db.query(
        `SELECT count(*)::int8 AS n, sum(id)::int8 AS ids, sum(notional)::text AS notional FROM ${t}`,
      );
      expect(summary[0]).toEqual({ n: count, ids: (count * (count + 1)) / 2, notional: '312493750.00' });
      const { rows: some } = await db.query(`SELECT * FROM ${t} WHERE id IN (1, 2, 25000) ORDER BY id`);
      expect(some).toEqual([
        {
          id: 1,
          account: 'acct-0',
          price: 10_000,
          qty: 100,
          notional: '0.25',
          placed_at: new Date(1_700_000_000_000),
          meta: [0, 'array'],
        },
        {
          id: 2,
          account: 'acct-1',
          price: 10_001,
          qty: 100,
          notional: '1.25',
          placed_at: new Date(1_700_000_000_001),
          meta: { tags: ['x', 1] },
        },
        {
          id: 25_000,
          account: 'acct-99',
          price: 10_000 + (24_999 % 750),
          qty: 100,
          notional: '24999.25',
          placed_at: new Date(1_700_000_024_999),
          meta: { tags: ['x', 24_999] },
        },
      ]);
    });

    it('keeps NULLs and text with array-literal syntax intact', async () => {
      const t = freshTable();
      await createTable(t);
      await insertMany(db, t, columns, [
        [1, null, null, null, null, null, null],
        [2, '{a,"b"}\\ ,NULL', 1, 1, '1', new Date(0), 'a "json" string'],
      ]);
      const { rows } = await db.query(`SELECT id, account, meta FROM ${t} ORDER BY id`);
      expect(rows).toEqual([
        { id: 1, account: null, meta: null },
        { id: 2, account: '{a,"b"}\\ ,NULL', meta: 'a "json" string' },
      ]);
    });

    it('counts only new rows with onConflict, and rejects bad input before touching the database', async () => {
      const t = freshTable();
      await createTable(t);
      const row = (id: number) => [id, 'a', 1, 1, '1', new Date(0), null];
      expect(await insertMany(db, t, columns, [row(1), row(2)])).toBe(2);
      expect(await insertMany(db, t, columns, [row(2), row(3)], { onConflict: '(id) DO NOTHING' })).toBe(1);
      expect(await insertMany(db, t, columns, [])).toBe(0);
      await expect(insertMany(db, t, columns, [[4, 'short']])).rejects.toThrow(/2 values, expected 7/);
      await expect(insertMany(db, `${t}; DROP TABLE x`, columns, [row(5)])).rejects.toThrow(/bad table name/);
      await expect(insertMany(db, t, { 'id"': 'int8' }, [[5]])).rejects.toThrow(/bad column name/);
      await expect(insertMany(db, t, { id: 'int8[]' }, [[[5]]])).rejects.toThrow(/unsupported type/);
      expect((await db.query(`SELECT count(*)::int8 AS n FROM ${t}`)).rows).toEqual([{ n: 3 }]);
    });
  });
});

describeWithPostgres('Db on PostgreSQL: a session ended under an open transaction', () => {
  it('fails that transaction, does not crash the process, and keeps the pool usable', async () => {
    const made = await makePostgresDb({ migrations: false });
    onTestFinished(made.dispose);
    const db = made.value;
    const outcome = await db
      .transaction(async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        // another connection ends this one between two statements, as idle_in_transaction_session_timeout
        // does to a paused process: the server's FATAL arrives with no query running
        await db.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        await sleep(300);
        await tx.query('SELECT 1');
        return 'committed';
      })
      .catch((err: Error) => err);
    expect(outcome).toBeInstanceOf(Error);
    expect(String((outcome as Error).message)).toMatch(/terminat/i);
    // the broken connection was not returned to the pool: every connection answers
    const answers = await Promise.all(Array.from({ length: 8 }, () => db.query('SELECT 1 AS one')));
    expect(answers.map((a) => a.rows)).toEqual(Array.from({ length: 8 }, () => [{ one: 1 }]));
  });
});

describeWithPostgres('Db on PostgreSQL: a session with an idle timeout', () => {
  const busy = (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      // the main thread does not yield: no timer, no I/O callback runs here
    }
  };

  it('is kept alive from its own thread while the main thread is busy past the timeout', async () => {
    const made = await makePostgresDb({ migrations: false });
    onTestFinished(made.dispose);
    const session = await made.value.session!({ idleTimeoutMs: 500, keepAliveMs: 100 });
    onTestFinished(() => session.close());
    let lost: Error | null = null;
    session.onLost((err) => (lost = err));
    await session.query('SELECT pg_advisory_lock(1, 1)');
    busy(1500);
    await sleep(300);
    expect(lost).toBeNull();
    expect((await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows).toEqual([
      { pid: session.pid },
    ]);
    // the lock is still this session's: another connection cannot take it
    const other = await made.value.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(1, 1) AS ok');
    expect(other.rows).toEqual([{ ok: false }]);
  });

  it('without a keep-alive, is ended by the server after the timeout, and says so', async () => {
    const made = await makePostgresDb({ migrations: false });
    onTestFinished(made.dispose);
    const session = await made.value.session!({ idleTimeoutMs: 300 });
    onTestFinished(() => session.close());
    let lost: Error | null = null;
    session.onLost((err) => (lost = err));
    await session.query('SELECT pg_advisory_lock(1, 2)');
    const deadline = Date.now() + 10_000;
    while (!lost && Date.now() < deadline) await sleep(50);
    expect(String(lost)).toMatch(/idle-session timeout|ended the session/);
    const other = await made.value.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(1, 2) AS ok');
    expect(other.rows).toEqual([{ ok: true }]);
  });
});
