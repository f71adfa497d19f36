-- Indexes for the reporting service, which reads the orders service's tables by account and
-- time (statements, equity curves). Reporting writes nothing; these only make its reads scale.
-- Plain SQL for PostgreSQL 15+ and PGlite.
CREATE INDEX trades_buy_account_ts ON trades (buy_account, ts, id);
CREATE INDEX trades_sell_account_ts ON trades (sell_account, ts, id);
CREATE INDEX cash_movements_account_ts ON cash_movements (account, ts);
CREATE INDEX share_movements_account_ts ON share_movements (account, ts);
