import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from './logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (s: string) => void lines.push(JSON.parse(s)) },
  });
  return { logger, lines };
}

describe('logger', () => {
  it('redacts credentials wherever services are likely to log them', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        password: 'p0',
        user: { email: 'a@b.c', password: 'p1', apiKey: 'k1' },
        body: { credentials: { refreshToken: 'r1' } },
        req: {
          method: 'GET',
          headers: { authorization: 'Bearer t', cookie: 'sid=1', 'x-api-key': 'k2', host: 'h' },
        },
        res: { headers: { 'set-cookie': 'sid=2' } },
        config: { secret: 's1' },
      },
      'request',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ['p0', 'p1', 'k1', 'r1', 'Bearer t', 'sid=1', 'k2', 'sid=2', 's1']) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({
      msg: 'request',
      user: { email: 'a@b.c' },
      req: { headers: { host: 'h' } },
    });
  });

  it('honours the level', () => {
    const lines: unknown[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (s: string) => void lines.push(s) } });
    logger.info('quiet');
    logger.warn('loud');
    expect(lines).toHaveLength(1);
  });

  it('hides passwords in connection URLs', () => {
    expect(redactUrl('postgres://bourse:hunter2@db:5432/x')).toBe('postgres://bourse:***@db:5432/x');
    expect(redactUrl('nats://127.0.0.1:4222')).toBe('nats://127.0.0.1:4222');
    expect(redactUrl('not a url')).toBe('not a url');
  });
});
