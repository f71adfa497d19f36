-- Quote history, for Alpaca's GET /v2/stocks/{symbol}/quotes and /v2/stocks/quotes: the
-- consolidated top of book of each symbol as it changed, at most one row per symbol, millisecond
-- and source (the stream's conflation tick, 25 ms by default, already merges faster changes).
-- Written in batches by the market-data instance that publishes quotes; kept 7 days
-- (quote-history.ts prunes older rows). Prices in dollars, numeric(20,6), as md_candles.
CREATE TABLE md_quotes (
  symbol text NOT NULL,
  ts timestamptz NOT NULL,
  source text NOT NULL,
  bid numeric(20, 6) NOT NULL,
  bid_size bigint NOT NULL,
  ask numeric(20, 6) NOT NULL,
  ask_size bigint NOT NULL,
  PRIMARY KEY (symbol, ts, source)
);
-- pruning by age
CREATE INDEX md_quotes_ts_idx ON md_quotes (ts);
