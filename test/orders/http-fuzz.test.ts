/**
 * Bad input, generated: every route answers 4xx application/problem+json naming what is wrong,
 * never 5xx, and nothing reaches the sequencer (the journal does not move).
 */

import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { Db } from '../../src/platform/db/types.ts';
import type { OrdersService } from '../../src/services/orders/index.ts';
import { forEachDb } from '../support/db.ts';
import { appFor } from './support/http.ts';
import { count, fund, listAcme, MID, SYMBOL, startService } from './support/service.ts';

// A PGlite cold start (first database of a worker) takes tens of seconds on a busy 2-core machine.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const RUNS = 60;
const P = '/internal/orders';

const ACCOUNT = /^[A-Za-z0-9_-]{1,64}$/;
const SYMBOL_RE = /^[A-Z][A-Z0-9_-]{0,15}$/;
const CLIENT_ID = /^[!-~]{1,64}$/;

const notJsonInteger = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
);
const bad = {
  /** for fields that must be integers >= 1 */
  positive: fc.oneof(notJsonInteger, fc.integer({ min: -1_000_000, max: 0 }), fc.constant(2 ** 60)),
  /** >= 0 */
  nonNegative: fc.oneof(notJsonInteger, fc.integer({ min: -1_000_000, max: -1 })),
  /** any integer but 0 within bounds */
  nonZero: fc.oneof(notJsonInteger, fc.constant(0), fc.constant(2 ** 60)),
  bool: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
  symbol: fc.oneof(
    notJsonInteger.filter((v) => typeof v !== 'string'),
    fc.string().filter((s) => !SYMBOL_RE.test(s)),
  ),
  clientId: fc.oneof(
    fc.integer(),
    fc.string().filter((s) => !CLIENT_ID.test(s)),
  ),
  enumOf: (values: string[]) =>
    fc.oneof(
      fc.integer(),
      fc.constant(null),
      fc.string().filter((s) => !values.includes(s)),
    ),
};

type FieldBad = Record<string, fc.Arbitrary<unknown>>;

/** A valid body, the invalid values per field, and which fields are required. */
interface BodyRoute {
  method: 'POST' | 'PATCH';
  url: string;
  valid: Record<string, unknown>;
  fields: FieldBad;
  required: string[];
}

const bodyRoutes: BodyRoute[] = [
  {
    method: 'POST',
    url: `${P}/accounts/alice/orders`,
    valid: {
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      tif: 'gtc',
      qty: 1,
      price: MID - 500,
      clientOrderId: 'x',
    },
    fields: {
      symbol: bad.symbol,
      side: bad.enumOf(['buy', 'sell']),
      type: bad.enumOf(['market', 'limit', 'stop', 'stop_limit']),
      tif: bad.enumOf(['day', 'gtc', 'ioc', 'fok']),
      qty: bad.positive,
      price: bad.positive,
      postOnly: bad.bool,
      clientOrderId: bad.clientId,
      selfTradePrevention: bad.enumOf(['cancel_resting', 'cancel_incoming', 'cancel_both', 'allow']),
    },
    required: ['symbol', 'side', 'type', 'qty', 'price'],
  },
  {
    method: 'PATCH',
    url: `${P}/accounts/alice/orders/1`,
    valid: { qty: 5 },
    fields: { qty: bad.positive, price: bad.positive, stopPrice: bad.positive },
    required: [],
  },
  ...(['deposits', 'withdrawals'] as const).map(
    (path): BodyRoute => ({
      method: 'POST',
      url: `${P}/accounts/alice/${path}`,
      valid: { amount: 100 },
      fields: { amount: bad.positive },
      required: ['amount'],
    }),
  ),
  {
    method: 'POST',
    url: `${P}/accounts/alice/share-transfers`,
    valid: { symbol: SYMBOL, qty: 5, cost: 10 },
    fields: { symbol: bad.symbol, qty: bad.nonZero, cost: bad.nonNegative },
    required: ['symbol', 'qty'],
  },
  {
    method: 'POST',
    url: `${P}/admin/instruments`,
    valid: {
      symbol: 'NEWCO',
      tickSize: 1,
      lotSize: 1,
      minQty: 1,
      maxQty: 10,
      priceBandBps: 0,
      collarBps: 100,
      referencePrice: 100,
    },
    fields: {
      symbol: bad.symbol,
      tickSize: bad.positive,
      lotSize: bad.positive,
      minQty: bad.positive,
      maxQty: bad.positive,
      priceBandBps: bad.nonNegative,
      collarBps: bad.nonNegative,
      referencePrice: bad.positive,
    },
    required: [
      'symbol',
      'tickSize',
      'lotSize',
      'minQty',
      'maxQty',
      'priceBandBps',
      'collarBps',
      'referencePrice',
    ],
  },
  {
    method: 'POST',
    url: `${P}/admin/halt`,
    valid: { symbol: SYMBOL, halted: true },
    fields: { symbol: bad.symbol.filter((v) => v !== null), halted: bad.bool },
    required: ['symbol', 'halted'],
  },
  {
    method: 'POST',
    url: `${P}/admin/session`,
    valid: { state: 'closed' },
    fields: { state: bad.enumOf(['pre_open', 'open', 'closed']) },
    required: ['state'],
  },
];

/** One invalid body derived from a valid one. */
function badBody(route: BodyRoute): fc.Arbitrary<unknown> {
  const names = Object.keys(route.fields);
  return fc.oneof(
    fc
      .constantFrom(...names)
      .chain((field) => route.fields[field]!.map((value) => ({ ...route.valid, [field]: value }))),
    ...(route.required.length
      ? [
          fc.constantFrom(...route.required).map((field) => {
            const copy: Record<string, unknown> = { ...route.valid };
            delete copy[field];
            return copy;
          }),
        ]
      : [fc.constant({})]),
    fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((k) => !(k in route.fields) && k !== '__proto__')
      .map((k) => ({ ...route.valid, [k]: 1 })),
    fc.oneof(fc.array(fc.integer(), { maxLength: 3 }), fc.string(), fc.integer(), fc.constant(null)),
  );
}

const badSegment = (re: RegExp) => fc.string({ minLength: 1, maxLength: 70 }).filter((s) => !re.test(s));
const badIdSegment = fc.oneof(
  fc
    .string({ minLength: 1, maxLength: 20 })
    .filter((s) => !/^\d+$/.test(s) || Number(s) < 1 || !Number.isSafeInteger(Number(s))),
  fc.constant('0'),
  fc.constant('99999999999999999999'),
  fc.constant('1.5'),
);
const badLimit = fc.oneof(
  fc.constantFrom('0', '501', '-1', 'ten', '1.5', ''),
  // query strings are coerced as numbers ('1 ', '1e2', '0x1' read as 1, 100, 1): a string that
  // reads as a limit in range is a lenient spelling of a good value, not a bad one
  fc.string({ maxLength: 5 }).filter((s) => {
    const n = Number(s);
    return !(s.trim() !== '' && Number.isInteger(n) && n >= 1 && n <= 500);
  }),
);
const enc = encodeURIComponent;

/** Requests without a body: bad path segments and query strings. */
const badGets: fc.Arbitrary<{ method: 'GET' | 'DELETE'; url: string }> = fc.oneof(
  badSegment(ACCOUNT).map((a) => ({ method: 'GET' as const, url: `${P}/accounts/${enc(a)}/orders` })),
  badSegment(ACCOUNT).map((a) => ({ method: 'GET' as const, url: `${P}/accounts/${enc(a)}/balance` })),
  badSegment(ACCOUNT).map((a) => ({ method: 'GET' as const, url: `${P}/accounts/${enc(a)}/positions` })),
  badIdSegment.map((id) => ({ method: 'GET' as const, url: `${P}/accounts/alice/orders/${enc(id)}` })),
  badIdSegment.map((id) => ({ method: 'DELETE' as const, url: `${P}/accounts/alice/orders/${enc(id)}` })),
  badSegment(CLIENT_ID).map((c) => ({
    method: 'GET' as const,
    url: `${P}/accounts/alice/orders/by-client-id/${enc(c)}`,
  })),
  badLimit.map((l) => ({ method: 'GET' as const, url: `${P}/accounts/alice/orders?limit=${enc(l)}` })),
  fc
    .string({ maxLength: 8 })
    .filter((s) => !['open', 'closed', 'all'].includes(s))
    .map((s) => ({
      method: 'GET' as const,
      url: `${P}/accounts/alice/orders?status=${enc(s)}`,
    })),
  fc
    .string({ maxLength: 8 })
    .map((s) => ({ method: 'GET' as const, url: `${P}/accounts/alice/orders?cursor=x${enc(s)}` })),
  fc
    .string({ minLength: 1, maxLength: 8 })
    .filter((k) => !['status', 'symbol', 'limit', 'cursor'].includes(k))
    .map((k) => ({
      method: 'GET' as const,
      url: `${P}/accounts/alice/orders?${enc(k)}=1`,
    })),
  badLimit.map((l) => ({ method: 'GET' as const, url: `${P}/accounts/alice/trades?limit=${enc(l)}` })),
  badSegment(SYMBOL_RE).map((s) => ({ method: 'GET' as const, url: `${P}/symbols/${enc(s)}/book` })),
  fc
    .constantFrom('0', '1001', 'x', '-5')
    .map((l) => ({ method: 'GET' as const, url: `${P}/symbols/${SYMBOL}/book?levels=${l}` })),
  fc
    .string({ maxLength: 10 })
    .map((c) => ({ method: 'GET' as const, url: `${P}/symbols/${SYMBOL}/trades?cursor=${enc(`${c}z`)}` })),
);

forEachDb('orders HTTP API refuses bad input', (makeDb) => {
  let service: OrdersService;
  let app: FastifyInstance;
  let journalBefore = 0;
  let seqBefore = 0;
  let dbRef: Db;

  beforeAll(async () => {
    const db = await makeDb();
    dbRef = db;
    service = await startService(db);
    await listAcme(service.client);
    await fund(service.client, ['alice']);
    app = await appFor(service);
    journalBefore = await count(db, 'journal');
    seqBefore = service.sequencer.committedSeq();
  });

  afterAll(async () => {
    // nothing that was refused changed anything
    expect(await count(dbRef, 'journal')).toBe(journalBefore);
    expect(service.sequencer.committedSeq()).toBe(seqBefore);
    expect(service.sequencer.engine().exportState().openOrders).toEqual([]);
    await app.close();
    await service.close();
  });

  async function expectProblem(res: Awaited<ReturnType<FastifyInstance['inject']>>): Promise<void> {
    expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
    expect(res.statusCode, res.body).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body.type).toMatch(/^https:\/\/bourse\.dev\/problems\/[a-z-]+$/);
    expect(typeof body.title).toBe('string');
    expect(body.status).toBe(res.statusCode);
    if (res.statusCode === 400 && body.type.endsWith('/invalid-request')) {
      expect(body.errors.length).toBeGreaterThan(0);
      for (const e of body.errors)
        expect(e).toEqual({
          in: expect.any(String),
          field: expect.any(String),
          pointer: expect.any(String),
          detail: expect.any(String),
        });
    }
  }

  for (const route of bodyRoutes) {
    it(`${route.method} ${route.url.slice(P.length)}: bad bodies get 400 naming the field`, async () => {
      await fc.assert(
        fc.asyncProperty(badBody(route), async (body) => {
          const res = await app.inject({
            method: route.method,
            url: route.url,
            headers: { 'content-type': 'application/json' },
            payload: JSON.stringify(body),
          });
          await expectProblem(res);
          expect(res.statusCode).toBe(400);
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('bad path segments and query strings get 4xx problems', async () => {
    await fc.assert(
      fc.asyncProperty(badGets, async ({ method, url }) => {
        await expectProblem(await app.inject({ method, url }));
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('malformed JSON, wrong media types and oversized bodies get problems too', async () => {
    const url = `${P}/accounts/alice/orders`;
    const cases = [
      { headers: { 'content-type': 'application/json' }, payload: '{"symbol":' },
      { headers: { 'content-type': 'application/json' }, payload: '' },
      { headers: { 'content-type': 'text/plain' }, payload: 'hello' },
      {
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ pad: 'x'.repeat(20_000) }),
      },
      { headers: { 'idempotency-key': ' spaced key ' }, payload: undefined },
    ];
    for (const c of cases) await expectProblem(await app.inject({ method: 'POST', url, ...c }));
    await expectProblem(
      await app.inject({
        method: 'POST',
        url: `${P}/accounts/alice/deposits`,
        headers: { 'content-type': 'application/json', 'idempotency-key': 'x'.repeat(65) },
        payload: JSON.stringify({ amount: 5 }),
      }),
    );
  });
});
