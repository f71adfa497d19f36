/**
 * JSON schemas of the users service's requests and answers. Bodies are closed
 * (`additionalProperties: false`) and validated without coercion (see validation.ts); answers are
 * serialised through their schema, so a field that is not listed here can never leak out.
 */
import type { FastifySchema } from 'fastify';
import { PRICE_PATTERN } from './money.ts';
import { pageQuerySchema } from './pagination.ts';
import {
  API_KEY_ID_PATTERN,
  API_KEY_SECRET_PATTERN,
  INVITE_DEFAULT_HOURS,
  INVITE_MAX_HOURS,
  PASSWORD_MAX,
  PASSWORD_MIN,
  REFRESH_TOKEN_PATTERN,
} from './patterns.ts';
import { problemSchema } from './problems.ts';

/** 3–32 characters, letters, digits and `_ . -`, starting and ending with a letter or digit; never '@'. */
export const USERNAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{1,30}[A-Za-z0-9]$';
/** printable text: no control characters, no lone surrogates, no leading/trailing space */
const TEXT_PATTERN = '^[^\\p{Cc}\\p{Cs}\\s](?:[^\\p{Cc}\\p{Cs}]*[^\\p{Cc}\\p{Cs}\\s])?$';

export const username = { type: 'string', minLength: 3, maxLength: 32, pattern: USERNAME_PATTERN } as const;
export const email = { type: 'string', minLength: 3, maxLength: 254, format: 'email' } as const;
export const password = { type: 'string', minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX } as const;
export const uuid = { type: 'string', format: 'uuid' } as const;
export const role = { type: 'string', enum: ['investor', 'broker', 'admin'] } as const;
const displayName = { type: ['string', 'null'], minLength: 1, maxLength: 64, pattern: TEXT_PATTERN } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;

const problems = { '4xx': problemSchema, '5xx': problemSchema } as const;
export const noContent = { 204: { description: 'No content', type: 'null' }, ...problems } as const;
export const withProblems = <T extends Record<number, unknown>>(ok: T) => ({ ...ok, ...problems });

export const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: pageQuerySchema,
} as const;
export const idParam = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: uuid },
} as const;

// --- users ----------------------------------------------------------------------------------

export const userSchema = {
  type: 'object',
  required: ['id', 'username', 'email', 'display_name', 'role', 'brokerage_id', 'created_at'],
  properties: {
    id: uuid,
    username: { type: 'string' },
    email: { type: 'string' },
    display_name: { type: ['string', 'null'] },
    role,
    brokerage_id: { type: ['string', 'null'] },
    created_at: dateTime,
  },
} as const;

export interface RegisterBody {
  username: string;
  email: string;
  password: string;
  brokerage_id?: string;
  invite_code?: string;
  role?: 'investor' | 'broker' | 'admin';
}

export const registerBody = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'email', 'password'],
  properties: {
    username,
    email,
    password,
    brokerage_id: {
      ...uuid,
      description:
        'the brokerage to join; self-registration into any but the default one needs its invite_code',
    },
    invite_code: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'a single-use invite from a broker of the brokerage (POST /brokerages/{id}/invites)',
    },
    /** admin only; brokers create investors */
    role,
  },
} as const;

export const registerResponse = {
  type: 'object',
  required: ['id', 'username', 'email'],
  properties: { id: uuid, username: { type: 'string' }, email: { type: 'string' } },
} as const;

export interface UsersQuery {
  limit: number;
  cursor?: string;
  brokerage_id?: string;
  role?: 'investor' | 'broker' | 'admin';
}

export const usersQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { ...pageQuerySchema, brokerage_id: uuid, role },
} as const;

export const userPage = {
  type: 'object',
  required: ['users', 'next_cursor'],
  properties: { users: { type: 'array', items: userSchema }, next_cursor: { type: ['string', 'null'] } },
} as const;

export interface ProfilePatch {
  email?: string;
  display_name?: string | null;
  password?: string;
  current_password?: string;
}

export const profilePatch = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    email,
    display_name: displayName,
    password,
    /** required to change the email or the password */
    current_password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
} as const;

export interface AdminUserPatch {
  role?: 'investor' | 'broker' | 'admin';
  brokerage_id?: string | null;
}

export const adminUserPatch = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { role, brokerage_id: { anyOf: [uuid, { type: 'null' }] } },
} as const;

// --- auth -----------------------------------------------------------------------------------

export interface LoginBody {
  /** username or email */
  username: string;
  password: string;
}

export const loginBody = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password'],
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 254, description: 'username or email address' },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
} as const;

export const tokenResponse = {
  type: 'object',
  required: ['access_token', 'token_type', 'expires_in', 'refresh_token'],
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string', enum: ['Bearer'] },
    expires_in: { type: 'integer' },
    refresh_token: { type: 'string' },
  },
} as const;

export const loginResponse = {
  type: 'object',
  required: [...tokenResponse.required, 'device_token'],
  properties: {
    ...tokenResponse.properties,
    device_token: {
      type: 'string',
      description:
        'Marks this device as one the account logged in from: send it back on later logins (header ' +
        '`bourse-device`, or the `bourse_device` cookie also set) and they are not slowed by failed ' +
        'attempts from elsewhere. Not a credential.',
    },
  },
} as const;

const refreshToken = { type: 'string', pattern: REFRESH_TOKEN_PATTERN } as const;

export const refreshBody = {
  type: 'object',
  additionalProperties: false,
  required: ['refresh_token'],
  properties: { refresh_token: refreshToken },
} as const;

export const logoutBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { refresh_token: refreshToken },
} as const;

export const jwksResponse = {
  type: 'object',
  required: ['keys'],
  properties: {
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kty', 'kid'],
        properties: {
          kty: { type: 'string' },
          crv: { type: 'string' },
          x: { type: 'string' },
          kid: { type: 'string' },
          alg: { type: 'string' },
          use: { type: 'string' },
        },
      },
    },
  },
} as const;

// --- API keys -------------------------------------------------------------------------------

export const apiKeyIdParam = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: API_KEY_ID_PATTERN } },
} as const;

export const apiKeyCreateBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1, maxLength: 64, pattern: TEXT_PATTERN } },
} as const;

const apiKeyProps = {
  id: { type: 'string' },
  name: { type: ['string', 'null'] },
  created_at: dateTime,
  last_used_at: nullableDateTime,
  revoked_at: nullableDateTime,
} as const;

export const apiKeySchema = {
  type: 'object',
  required: ['id', 'name', 'created_at', 'last_used_at', 'revoked_at'],
  properties: apiKeyProps,
} as const;

export const apiKeyCreated = {
  type: 'object',
  required: ['id', 'secret', 'name', 'created_at'],
  properties: {
    ...apiKeyProps,
    /** shown once, never again */
    secret: { type: 'string', pattern: API_KEY_SECRET_PATTERN },
  },
} as const;

export const apiKeyPage = {
  type: 'object',
  required: ['api_keys', 'next_cursor'],
  properties: { api_keys: { type: 'array', items: apiKeySchema }, next_cursor: { type: ['string', 'null'] } },
} as const;

// --- brokerages -----------------------------------------------------------------------------

export const brokerageBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 100, pattern: TEXT_PATTERN } },
} as const;

export const brokerageSchema = {
  type: 'object',
  required: ['id', 'name', 'created_at'],
  properties: { id: uuid, name: { type: 'string' }, created_at: dateTime },
} as const;

export const inviteBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    expires_in_hours: {
      type: 'integer',
      minimum: 1,
      maximum: INVITE_MAX_HOURS,
      default: INVITE_DEFAULT_HOURS,
    },
  },
} as const;

export const inviteSchema = {
  type: 'object',
  required: ['id', 'brokerage_id', 'code', 'created_at', 'expires_at'],
  properties: {
    id: uuid,
    brokerage_id: uuid,
    code: { type: 'string', description: 'shown once: give it to the person to register with it' },
    created_at: dateTime,
    expires_at: dateTime,
  },
} as const;

export const brokeragePage = {
  type: 'object',
  required: ['brokerages', 'next_cursor'],
  properties: {
    brokerages: { type: 'array', items: brokerageSchema },
    next_cursor: { type: ['string', 'null'] },
  },
} as const;

// --- internal (service to service) ------------------------------------------------------------

export const verifyBody = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['access_token'],
      properties: { access_token: { type: 'string', minLength: 1, maxLength: 4096 } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['key_id', 'secret_key'],
      properties: {
        key_id: { type: 'string', minLength: 1, maxLength: 64 },
        secret_key: { type: 'string', minLength: 1, maxLength: 256 },
      },
    },
  ],
} as const;

export const identitySchema = {
  type: 'object',
  required: ['userId', 'role', 'brokerageId', 'username', 'method', 'credentialId'],
  properties: {
    userId: uuid,
    role,
    brokerageId: { type: ['string', 'null'] },
    username: { type: 'string' },
    method: { type: 'string', enum: ['access_token', 'api_key'] },
    credentialId: { type: 'string' },
  },
} as const;

export const canActForBody = {
  type: 'object',
  additionalProperties: false,
  required: ['actor', 'target_user_id'],
  properties: {
    actor: {
      type: 'object',
      required: ['userId', 'role', 'brokerageId', 'username'],
      properties: {
        userId: uuid,
        role,
        brokerageId: { anyOf: [uuid, { type: 'null' }] },
        username: { type: 'string', maxLength: 64 },
      },
    },
    target_user_id: uuid,
  },
} as const;

// --- notifications --------------------------------------------------------------------------

export interface NotificationsQuery {
  limit: number;
  cursor?: string;
  unread?: boolean;
}

export const notificationsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { ...pageQuerySchema, unread: { type: 'boolean', default: false } },
} as const;

export const notificationSchema = {
  type: 'object',
  required: ['id', 'kind', 'title', 'data', 'created_at', 'read_at'],
  properties: {
    id: uuid,
    kind: { type: 'string' },
    title: { type: 'string' },
    data: { type: 'object', additionalProperties: true },
    created_at: dateTime,
    read_at: nullableDateTime,
  },
} as const;

export const notificationPage = {
  type: 'object',
  required: ['notifications', 'next_cursor'],
  properties: {
    notifications: { type: 'array', items: notificationSchema },
    next_cursor: { type: ['string', 'null'] },
  },
} as const;

// --- price alerts ---------------------------------------------------------------------------

export interface AlertBody {
  symbol: string;
  condition: 'above' | 'below';
  price: string;
}

export const alertBody = {
  type: 'object',
  additionalProperties: false,
  required: ['symbol', 'condition', 'price'],
  properties: {
    // the orders service's symbol grammar (its schemas.ts; not importable across services)
    symbol: { type: 'string', minLength: 1, maxLength: 16, pattern: '^[A-Z][A-Z0-9_-]{0,15}$' },
    condition: { type: 'string', enum: ['above', 'below'] },
    /** decimal string in dollars on the cent grid, like Alpaca's prices: "187.25" */
    price: { type: 'string', minLength: 1, maxLength: 14, pattern: PRICE_PATTERN },
  },
} as const;

export const alertSchema = {
  type: 'object',
  required: ['id', 'symbol', 'condition', 'price', 'status', 'created_at', 'triggered_at', 'triggered_price'],
  properties: {
    id: uuid,
    symbol: { type: 'string' },
    condition: { type: 'string', enum: ['above', 'below'] },
    price: { type: 'string' },
    status: { type: 'string', enum: ['active', 'triggered'] },
    created_at: dateTime,
    triggered_at: nullableDateTime,
    triggered_price: { type: ['string', 'null'] },
  },
} as const;

export interface AlertsQuery {
  limit: number;
  cursor?: string;
  status?: 'active' | 'triggered';
}

export const alertsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { ...pageQuerySchema, status: { type: 'string', enum: ['active', 'triggered'] } },
} as const;

export const alertPage = {
  type: 'object',
  required: ['alerts', 'next_cursor'],
  properties: { alerts: { type: 'array', items: alertSchema }, next_cursor: { type: ['string', 'null'] } },
} as const;

/**
 * A route's schema with its OpenAPI `summary` (FastifySchema only gains that field once an OpenAPI
 * plugin is installed, which is the gateway's business).
 */
export function route(s: FastifySchema & { summary: string }): FastifySchema {
  return s;
}

// --- watchlists (Alpaca's /v2/watchlists; unknown body fields are ignored, as Alpaca does) ---

const watchlistSymbol = { type: 'string', pattern: '^[A-Z][A-Z0-9._-]{0,15}$' } as const;
const watchlistName = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  pattern: '^[^\\u0000-\\u001f]+$',
} as const;
const watchlistSymbols = { type: 'array', maxItems: 1_000, items: watchlistSymbol } as const;
export const watchlistCreateBody = {
  type: 'object',
  required: ['name'],
  properties: { name: watchlistName, symbols: watchlistSymbols },
} as const;
export const watchlistUpdateBody = {
  type: 'object',
  properties: { name: watchlistName, symbols: watchlistSymbols },
} as const;
export const watchlistAddBody = {
  type: 'object',
  required: ['symbol'],
  properties: { symbol: watchlistSymbol },
} as const;
export const watchlistByName = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: watchlistName },
} as const;
export const watchlistSymbolParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'symbol'],
  properties: { id: idParam.properties.id, symbol: watchlistSymbol },
} as const;
export const watchlistSchema = { type: 'object', additionalProperties: true } as const;
export const watchlistList = { type: 'array', items: watchlistSchema } as const;
