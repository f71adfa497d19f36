import pino from 'pino';
import type { LogLevel } from './config.ts';

export type Logger = pino.Logger;

export interface LoggerOptions {
  level?: LogLevel;
  /** Component name, shown on every line (`orders`, `gateway`, …). */
  name?: string;
  /** Defaults to stdout; tests pass a stream to read what was written. */
  destination?: pino.DestinationStream;
}

/** Field names whose values never reach a log, wherever they sit in the first three levels. */
const SECRET_KEYS = [
  'password',
  'newPassword',
  'passwordHash',
  'secret',
  'clientSecret',
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'api_key',
  'jwt',
];

// Header paths are listed exactly: that is where Fastify's request serializer puts them.
const HEADER_KEYS = ['authorization', 'cookie', 'set-cookie', 'x-api-key', 'proxy-authorization'];
const HEADER_PARENTS = ['headers', 'req.headers', 'res.headers', 'request.headers', 'response.headers'];

export const REDACTED_PATHS: readonly string[] = [
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
  ...HEADER_PARENTS.flatMap((parent) => HEADER_KEYS.map((header) => `${parent}["${header}"]`)),
];

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      name: options.name,
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    },
    options.destination,
  );
}

/** `postgres://bourse:hunter2@db/x` → `postgres://bourse:***@db/x`, for logging where we connect. */
export function redactUrl(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
