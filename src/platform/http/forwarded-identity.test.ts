import { describe, expect, it } from 'vitest';
import { isInternalToken, parseInternalTokens } from './forwarded-identity.ts';

describe('internal token check', () => {
  const current = 'c'.repeat(40);
  const next = 'n'.repeat(43);

  it('accepts exactly one of the configured tokens', () => {
    expect(isInternalToken(current, [current, next])).toBe(true);
    expect(isInternalToken(next, [current, next])).toBe(true);
    expect(isInternalToken(current, current)).toBe(true);
  });

  it('refuses prefixes, extensions, other strings, non-strings and empty lists', () => {
    for (const given of [current.slice(0, -1), `${current}c`, '', 'x', undefined, [current]])
      expect(isInternalToken(given, [current, next]), String(given)).toBe(false);
    expect(isInternalToken('', '')).toBe(false);
    expect(isInternalToken(current, [])).toBe(false);
    expect(isInternalToken(current, [''])).toBe(false);
  });

  it('reads a comma-separated list, current first', () => {
    expect(parseInternalTokens(` ${current} , ${next},`)).toEqual([current, next]);
  });
});
