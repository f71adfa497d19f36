/** The exchange's fee schedule: basis points of the notional, floored to the cent per fill. */
export const TAKER_BPS = 3;
export const MAKER_BPS = 1;

export function feeCents(notionalCents: number, bps: number): number {
  return Math.floor((notionalCents * bps) / 10_000);
}
