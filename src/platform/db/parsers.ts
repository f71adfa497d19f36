/**
 * The one result-type mapping both adapters install, so a row reads the same on PostgreSQL and
 * PGlite. Only the types whose library defaults differ (or lose precision) are listed; the rest
 * (int2/int4, float, bool, json/jsonb, timestamptz) already agree on both.
 */
export type TextParser = (text: string) => unknown;

/** Money and quantities are integers; a silently rounded int8 would corrupt a balance. */
export function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(`int8 value ${text} is outside the safe integer range (±9007199254740991)`);
  }
  return n;
}

const asText: TextParser = (text) => text;

/** Keyed by PostgreSQL type OID. */
export const scalarParsers: Readonly<Record<number, TextParser>> = {
  20: parseInt8, // int8: node-postgres gives a string, PGlite a bigint when large
  1700: asText, // numeric: exact decimal text, never a float
  1082: asText, // date: no time zone, so no Date (node-postgres would pick the local one)
  1114: asText, // timestamp without time zone: same reason
};

/** Array OID → element OID for the scalars above (PGlite derives these itself). */
export const arrayElementOids: Readonly<Record<number, number>> = {
  1016: 20,
  1231: 1700,
  1182: 1082,
  1115: 1114,
};
