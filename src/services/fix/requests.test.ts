import { describe, expect, it } from 'vitest';
import { parseInbound, type TagReader } from './requests.ts';

const message = (fields: Record<number, string>): TagReader => ({
  getString: (tag) => fields[tag] ?? null,
});

const order = (more: Record<number, string> = {}) =>
  message({ 11: 'c1', 55: 'AAPL', 54: '1', 38: '10', 40: '2', 44: '187.25', ...more });

describe('FIX requests', () => {
  it('reads a NewOrderSingle into integer cents and shares', () => {
    expect(parseInbound('D', order({ 59: '1', 18: '6' }))).toMatchObject({
      kind: 'new',
      symbol: 'AAPL',
      side: 'buy',
      type: 'limit',
      tif: 'gtc',
      qty: 10,
      price: 18_725,
      postOnly: true,
      possDup: false,
    });
    expect(parseInbound('D', order({ 40: '4', 99: '186.00' }))).toMatchObject({
      type: 'stop_limit',
      price: 18_725,
      stopPrice: 18_600,
      tif: 'day',
    });
    expect(parseInbound('D', order({ 40: '1', 44: '' }))).toMatchObject({ type: 'market' });
  });

  it('refuses what Bourse does not do, naming it, for an ExecutionReport', () => {
    const refused = (more: Record<number, string>) => {
      const r = parseInbound('D', order(more));
      expect(r.kind).toBe('new');
      return (r as { refused?: { reason: number; text: string } }).refused;
    };
    expect(refused({ 44: '187.255' })).toMatchObject({ text: expect.stringMatching(/off the price grid/) });
    expect(refused({ 38: '1.5' })).toMatchObject({ reason: 13 });
    expect(refused({ 54: '5' })).toMatchObject({ reason: 11, text: expect.stringMatching(/Side \(54\) 5/) });
    expect(refused({ 40: 'J' })).toMatchObject({ reason: 11 });
    expect(refused({ 40: 'P', 44: '', 211: '1.00' })).toMatchObject({
      reason: 11,
      text: expect.stringMatching(/ExecInst \(18\) must include a/),
    });
    expect(refused({ 59: '6' })).toMatchObject({ reason: 11 });
    expect(refused({ 40: '1' })).toMatchObject({
      text: expect.stringMatching(/Price \(44\) is not allowed/),
    });
    expect(refused({ 111: '100' })).toMatchObject({ text: expect.stringMatching(/MaxFloor/) });
    expect(refused({ 15: 'EUR' })).toMatchObject({ text: expect.stringMatching(/USD/) });
    expect(refused({ 18: 'G' })).toMatchObject({ reason: 11 });
    expect(refused({ 55: 'aapl' })).toMatchObject({ reason: 1 });
    expect(refused({})).toBeUndefined();
  });

  it('gives a session-level Reject for what it cannot read', () => {
    expect(parseInbound('D', order({ 44: '' }))).toMatchObject({
      kind: 'session_reject',
      refTagId: 44,
      reason: 1,
    });
    expect(parseInbound('D', order({ 40: '3' }))).toMatchObject({ kind: 'session_reject', refTagId: 99 });
    expect(parseInbound('D', order({ 38: 'ten' }))).toMatchObject({
      kind: 'session_reject',
      refTagId: 38,
      reason: 6,
    });
    expect(parseInbound('D', order({ 11: 'has space' }))).toMatchObject({
      kind: 'session_reject',
      refTagId: 11,
    });
    expect(parseInbound('F', message({ 11: 'c2', 55: 'AAPL', 54: '1' }))).toMatchObject({
      kind: 'session_reject',
      refTagId: 41,
    });
    expect(parseInbound('F', message({ 11: 'c2', 41: 'c1', 37: 'x', 55: 'AAPL', 54: '1' }))).toMatchObject({
      kind: 'session_reject',
      refTagId: 37,
    });
  });

  it('reads cancel, replace and status requests', () => {
    expect(
      parseInbound('F', message({ 11: 'c2', 41: 'c1', 37: '42', 55: 'AAPL', 54: '1', 43: 'Y' })),
    ).toMatchObject({
      kind: 'cancel',
      origClOrdId: 'c1',
      orderId: 42,
      possDup: true,
    });
    expect(parseInbound('G', order({ 11: 'c3', 41: 'c2', 38: '8', 44: '187.30' }))).toMatchObject({
      kind: 'replace',
      origClOrdId: 'c2',
      qty: 8,
      price: 18_730,
      type: 'limit',
      tif: null,
    });
    expect(parseInbound('H', message({ 11: 'c3', 790: 'q1', 55: 'AAPL', 54: '1' }))).toMatchObject({
      kind: 'status',
      clOrdId: 'c3',
      ordStatusReqId: 'q1',
    });
  });

  it('reads a trailing stop: OrdType P, ExecInst a, the trail in PegOffsetValue', () => {
    const trailing = (more: Record<number, string>) => order({ 40: 'P', 44: '', 18: 'a', ...more });
    expect(parseInbound('D', trailing({ 54: '2', 211: '1.50' }))).toMatchObject({
      kind: 'new',
      type: 'trailing_stop',
      side: 'sell',
      trailPrice: 150,
    });
    expect(parseInbound('D', trailing({ 211: '75', 836: '1' }))).toMatchObject({ trailBps: 75 });
    const refused = (more: Record<number, string>) =>
      (parseInbound('D', trailing(more)) as { refused?: { reason: number; text: string } }).refused;
    expect(refused({ 211: '0' })).toMatchObject({ text: expect.stringMatching(/PegOffsetValue \(211\) 0/) });
    expect(refused({ 211: '-1.00' })).toMatchObject({ text: expect.stringMatching(/positive/) });
    expect(refused({ 211: '0.005' })).toMatchObject({ text: expect.stringMatching(/off the price grid/) });
    expect(refused({ 211: '10000', 836: '1' })).toMatchObject({ text: expect.stringMatching(/9999/) });
    expect(refused({ 211: '1', 836: '2' })).toMatchObject({
      reason: 11,
      text: expect.stringMatching(/PegOffsetType \(836\) 2/),
    });
    expect(refused({ 211: '1.00', 99: '99.00' })).toMatchObject({
      text: expect.stringMatching(/activation price/),
    });
    expect(parseInbound('D', trailing({}))).toMatchObject({ kind: 'session_reject', refTagId: 211 });
    expect(parseInbound('D', trailing({ 211: 'abc' }))).toMatchObject({
      kind: 'session_reject',
      refTagId: 211,
    });
    // a peg offset on any other order type is refused
    expect(
      (parseInbound('D', order({ 211: '1.00' })) as { refused?: { text: string } }).refused?.text,
    ).toMatch(/only allowed on a trailing stop/);
    // a replace may change the trail, or keep it
    expect(parseInbound('G', trailing({ 11: 'c3', 41: 'c2', 211: '2.00' }))).toMatchObject({
      kind: 'replace',
      type: 'trailing_stop',
      trailPrice: 200,
    });
    const keep = parseInbound('G', trailing({ 11: 'c3', 41: 'c2', 38: '5' }));
    expect(keep).toMatchObject({ kind: 'replace', qty: 5 });
    expect(keep).not.toHaveProperty('trailPrice');
    expect(keep).not.toHaveProperty('refused');
  });

  it('turns away application messages Bourse does not take', () => {
    expect(parseInbound('R', message({}))).toMatchObject({ kind: 'business_reject', reason: 3 });
  });
});
