/** Pure analytics shared by market data, reporting and the web terminal. */
export * from './drawdown.ts';
export * from './fifo.ts';
export * from './indicators.ts';
export * from './market.ts';
export * from './performance.ts';
export * from './periodic.ts';
export * from './returns.ts';
export * from './stats.ts';
