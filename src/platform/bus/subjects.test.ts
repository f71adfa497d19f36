import { describe, expect, it } from 'vitest';
import { checkPattern, checkSubject, isPattern, isSubject, isSubset, matches } from './subjects.ts';

describe('bus subjects', () => {
  it('matches like NATS', () => {
    const cases: [string, string, boolean][] = [
      ['md.trade.AAPL', 'md.trade.AAPL', true],
      ['md.trade.AAPL', 'md.trade.MSFT', false],
      ['md.*.AAPL', 'md.quote.AAPL', true],
      ['md.*.AAPL', 'md.quote.AAPL.x', false],
      ['md.*', 'md', false],
      ['md.>', 'md.a', true],
      ['md.>', 'md.a.b.c', true],
      ['md.>', 'md', false],
      ['*.trade.>', 'md.trade.AAPL', true],
      ['md.trade', 'md.trade.AAPL', false],
    ];
    for (const [pattern, subject, expected] of cases)
      expect([pattern, subject, matches(pattern, subject)]).toEqual([pattern, subject, expected]);
  });

  it('validates subjects and patterns', () => {
    expect(isSubject('orders.exec.acct-1')).toBe(true);
    for (const bad of ['', 'a..b', 'a.*', 'a.>', 'a b', '.a', 'a.']) expect(isSubject(bad)).toBe(false);
    expect(isPattern('a.*.>')).toBe(true);
    for (const bad of ['a.>.b', 'a.b*', 'a..b', '']) expect(isPattern(bad)).toBe(false);
  });

  it('knows when one pattern lies within another (the JetStream filter rule)', () => {
    expect(isSubset('md.trade.*', 'md.>')).toBe(true);
    expect(isSubset('md.>', 'md.>')).toBe(true);
    expect(isSubset('md.*', 'md.>')).toBe(true);
    expect(isSubset('md', 'md.>')).toBe(false);
    expect(isSubset('*.trade.AAPL', 'md.>')).toBe(false);
    expect(isSubset('md.>', 'md.*')).toBe(false);
    expect(isSubset('md.a', 'md.*')).toBe(true);
  });

  it('keeps publishing and subscribing inside the stream', () => {
    expect(() => checkSubject('md.trade.AAPL')).not.toThrow();
    expect(() => checkSubject('audit.x')).toThrow(/outside/);
    expect(() => checkPattern('orders.exec.*')).not.toThrow();
    expect(() => checkPattern('>')).toThrow(/not within/);
  });
});
