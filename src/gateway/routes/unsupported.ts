/**
 * The parts of Alpaca's Trading and Market Data APIs that Bourse does not offer (it lists US-style
 * equities on its own exchange only: no crypto, options, forex, locates, tokenization...). The
 * official SDK can call every one of them; each answers a problem+json 501 naming the route, so a
 * client learns "not here" rather than a 404 that looks like a typo. Hidden from the OpenAPI
 * document, which lists what works.
 */
import type { FastifyInstance, HTTPMethods } from 'fastify';
import type { EdgeRouteConfig } from '../context.ts';
import { fail } from '../problems.ts';

/** [methods, path (find-my-way syntax), what is not supported] */
const UNSUPPORTED: readonly [HTTPMethods[], string, string][] = [
  [['GET'], '/v3/clock', 'GET /v3/clock (multi-market clocks): use GET /v2/clock'],
  [['GET'], '/v3/calendar/*', 'GET /v3/calendar/{market}: use GET /v2/calendar'],
  [['GET'], '/v2/options/*', '/v2/options/contracts: options are not listed'],
  [['POST'], '/v2/positions/:symbol/exercise', 'option exercise: options are not listed'],
  [['POST'], '/v2/positions/:symbol/do-not-exercise', 'option exercise: options are not listed'],
  [['GET'], '/v2/corporate_actions/*', '/v2/corporate_actions: corporate actions are not recorded'],
  [['GET'], '/v1/corporate-actions', '/v1/corporate-actions: corporate actions are not recorded'],
  [['GET', 'POST'], '/v1/locates', '/v1/locates: short-sale locates (no shorting)'],
  [['GET'], '/v1/locates/*', '/v1/locates: short-sale locates (no shorting)'],
  [['GET', 'POST', 'DELETE'], '/v2/wallets', '/v2/wallets: crypto funding'],
  [['GET', 'POST', 'DELETE'], '/v2/wallets/*', '/v2/wallets: crypto funding'],
  [['GET', 'POST'], '/v2/tokenization/*', '/v2/tokenization: tokenized assets'],
  [['GET'], '/v2beta1/events/*', '/v2beta1/events: server-sent account events'],
  [['GET'], '/v2/stocks/auctions', 'stock auctions'],
  [['GET'], '/v2/stocks/:symbol/auctions', 'stock auctions'],
  [['GET'], '/v2/stocks/meta/*', '/v2/stocks/meta: exchange and condition codes'],
  [['GET'], '/v1beta3/crypto/*', '/v1beta3/crypto: crypto market data'],
  [['GET'], '/v1beta1/crypto-perps/*', '/v1beta1/crypto-perps: crypto perpetual futures'],
  [['GET'], '/v1beta1/options/*', '/v1beta1/options: options market data'],
  [['GET'], '/v1beta1/forex/*', '/v1beta1/forex: forex rates'],
  [['GET'], '/v1beta1/indices/*', '/v1beta1/indices: index values'],
  [['GET'], '/v1beta1/fixed_income/*', '/v1beta1/fixed_income: fixed income'],
  [['GET'], '/v1beta1/logos/*', '/v1beta1/logos: company logos'],
  [['GET'], '/v1beta1/screener/*', '/v1beta1/screener: use GET /v1/market-data/movers'],
];

export async function unsupportedRoutes(app: FastifyInstance): Promise<void> {
  for (const [method, url, what] of UNSUPPORTED) {
    app.route({
      method,
      url,
      schema: { hide: true },
      // no credentials needed to learn a route is absent (the SDK calls crypto data without keys)
      config: { auth: 'none', rateClass: 'reads' } satisfies EdgeRouteConfig,
      handler: async () => {
        throw fail(501, 'not-implemented', 'Not implemented', `Bourse does not support ${what}`);
      },
    });
  }
}
