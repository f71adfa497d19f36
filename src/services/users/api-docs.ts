/**
 * The users service's public routes as documentation: their JSON schemas (the very objects the
 * routes validate and serialise with) and examples, keyed 'METHOD /path' as the routes are
 * registered. Plain data, re-exported by client.ts, so the gateway can document the routes it
 * forwards without importing the service's internals. Documentation only: nothing validates with it.
 */
import {
  adminUserPatch,
  alertBody,
  alertPage,
  alertSchema,
  alertsQuery,
  apiKeyCreateBody,
  apiKeyCreated,
  apiKeyIdParam,
  apiKeyPage,
  brokerageBody,
  brokeragePage,
  brokerageSchema,
  idParam,
  inviteBody,
  inviteSchema,
  jwksResponse,
  loginBody,
  loginResponse,
  logoutBody,
  noContent,
  notificationPage,
  notificationsQuery,
  pageQuery,
  profilePatch,
  refreshBody,
  registerBody,
  registerResponse,
  tokenResponse,
  userPage,
  userSchema,
  usersQuery,
  watchlistAddBody,
  watchlistByName,
  watchlistCreateBody,
  watchlistList,
  watchlistSchema,
  watchlistSymbolParams,
  watchlistUpdateBody,
  withProblems,
} from './schemas.ts';

export interface RouteDocs {
  body?: unknown;
  querystring?: unknown;
  params?: unknown;
  /** by status code ('201', '4xx', ...) */
  response?: Record<string, unknown>;
}

const USER_ID = '0b7f3c1e-5d2a-4e8b-9c61-2f4a8d9e7b13';
const CREATED_AT = '2026-01-15T09:30:00.000Z';
const tokens = {
  access_token: 'eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJzdWIiOiIwYjdmM2MxZSJ9.c2lnbmF0dXJl',
  token_type: 'Bearer',
  expires_in: 900,
  refresh_token: 'brt_EXAMPLEexampleEXAMPLEexampleEXAMPLEexampleE',
};

/** A schema with one example (@fastify/swagger turns `examples: [x]` into the media type's `example`). */
const withExample = <T extends object>(schema: T, example: unknown) => ({ ...schema, examples: [example] });

const docs: Record<string, RouteDocs> = {
  'POST /users': {
    body: withExample(registerBody, {
      username: 'ada',
      email: 'ada@example.com',
      password: 'correct horse battery staple',
    }),
    response: withProblems({
      201: withExample(registerResponse, { id: USER_ID, username: 'ada', email: 'ada@example.com' }),
    }),
  },
  'GET /users': { querystring: usersQuery, response: withProblems({ 200: userPage }) },
  'GET /users/me': { response: withProblems({ 200: userSchema }) },
  'PATCH /users/me': { body: profilePatch, response: withProblems({ 200: userSchema }) },
  'GET /users/:id': { params: idParam, response: withProblems({ 200: userSchema }) },
  'PATCH /users/:id': { params: idParam, body: adminUserPatch, response: withProblems({ 200: userSchema }) },
  'POST /auth/login': {
    body: withExample(loginBody, { username: 'ada', password: 'correct horse battery staple' }),
    response: withProblems({
      200: withExample(loginResponse, {
        ...tokens,
        device_token: `d1.${USER_ID}.Qm91cnNlRGV2aWNlSWQ.1790000000.EXAMPLEexampleEXAMPLEexampleEXAMPLEexampleE`,
      }),
    }),
  },
  'POST /auth/refresh': {
    body: withExample(refreshBody, { refresh_token: 'brt_PREVIOUSpreviousPREVIOUSpreviousPREVIOUSpre' }),
    response: withProblems({ 200: withExample(tokenResponse, tokens) }),
  },
  'POST /auth/logout': { body: logoutBody, response: noContent },
  'POST /auth/logout-all': { response: noContent },
  'POST /auth/keys/rotate': {
    response: withProblems({
      200: { type: 'object', required: ['kid'], properties: { kid: { type: 'string' } } },
    }),
  },
  'GET /.well-known/jwks.json': { response: withProblems({ 200: jwksResponse }) },
  'POST /api-keys': {
    body: withExample(apiKeyCreateBody, { name: 'trading bot' }),
    response: withProblems({
      201: withExample(apiKeyCreated, {
        id: 'BKABCDEFGHIJKLMNOP23',
        secret: 'EXAMPLEexampleEXAMPLEexampleEXAMPLEexamp',
        name: 'trading bot',
        created_at: CREATED_AT,
        last_used_at: null,
        revoked_at: null,
      }),
    }),
  },
  'GET /api-keys': { querystring: pageQuery, response: withProblems({ 200: apiKeyPage }) },
  'DELETE /api-keys/:id': { params: apiKeyIdParam, response: noContent },
  'POST /brokerages': { body: brokerageBody, response: withProblems({ 201: brokerageSchema }) },
  'GET /brokerages': { querystring: pageQuery, response: withProblems({ 200: brokeragePage }) },
  'GET /brokerages/:id': { params: idParam, response: withProblems({ 200: brokerageSchema }) },
  'POST /brokerages/:id/invites': {
    params: idParam,
    body: withExample(inviteBody, { expires_in_hours: 72 }),
    response: withProblems({
      201: withExample(inviteSchema, {
        id: '2f9a7c1e-5b3d-4e8f-a6c2-d1b0e9f8a7c6',
        brokerage_id: '00000000-0000-4000-8000-000000000001',
        code: 'EXAMPLEexampleEXAMPLEexampleEXAM',
        created_at: CREATED_AT,
        expires_at: '2026-01-18T09:30:00.000Z',
      }),
    }),
  },
  'GET /notifications': {
    querystring: notificationsQuery,
    response: withProblems({ 200: notificationPage }),
  },
  'POST /notifications/:id/read': { params: idParam, response: noContent },
  'POST /notifications/read-all': { response: noContent },
  'POST /alerts': {
    body: withExample(alertBody, { symbol: 'AAPL', condition: 'above', price: '187.25' }),
    response: withProblems({
      201: withExample(alertSchema, {
        id: '6e1d2c3b-4a59-4f8e-b7d6-c5b4a3928170',
        symbol: 'AAPL',
        condition: 'above',
        price: '187.25',
        status: 'active',
        created_at: CREATED_AT,
        triggered_at: null,
        triggered_price: null,
      }),
    }),
  },
  'GET /alerts': { querystring: alertsQuery, response: withProblems({ 200: alertPage }) },
  'GET /alerts/:id': { params: idParam, response: withProblems({ 200: alertSchema }) },
  'DELETE /alerts/:id': { params: idParam, response: noContent },
  'GET /v2/watchlists': { response: withProblems({ 200: watchlistList }) },
  'POST /v2/watchlists': { body: watchlistCreateBody, response: withProblems({ 200: watchlistSchema }) },
  'GET /v2/watchlists/:id': { params: idParam, response: withProblems({ 200: watchlistSchema }) },
  'POST /v2/watchlists/:id': {
    params: idParam,
    body: watchlistAddBody,
    response: withProblems({ 200: watchlistSchema }),
  },
  'PUT /v2/watchlists/:id': {
    params: idParam,
    body: watchlistUpdateBody,
    response: withProblems({ 200: watchlistSchema }),
  },
  'DELETE /v2/watchlists/:id': { params: idParam, response: noContent },
  'DELETE /v2/watchlists/:id/:symbol': {
    params: watchlistSymbolParams,
    response: withProblems({ 200: watchlistSchema }),
  },
  'GET /v2/watchlists::by_name': {
    querystring: watchlistByName,
    response: withProblems({ 200: watchlistSchema }),
  },
  'POST /v2/watchlists::by_name': {
    querystring: watchlistByName,
    body: watchlistAddBody,
    response: withProblems({ 200: watchlistSchema }),
  },
  'PUT /v2/watchlists::by_name': {
    querystring: watchlistByName,
    body: watchlistUpdateBody,
    response: withProblems({ 200: watchlistSchema }),
  },
  'DELETE /v2/watchlists::by_name': { querystring: watchlistByName, response: noContent },
};

/**
 * The table, deep-copied: a consumer (the OpenAPI generator rewrites schemas for OpenAPI 3.0) can
 * never alter the schemas the service's routes validate and serialise with.
 */
export const usersApiDocs: Readonly<Record<string, RouteDocs>> = structuredClone(docs);
