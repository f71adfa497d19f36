import { describe, expect, it } from 'vitest';
import { ConfigError, configVariables, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('gives the embedded defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      port: 8080,
      host: '0.0.0.0',
      dataDir: expect.stringMatching(/\/data$/),
      databaseUrl: undefined,
      pgliteDir: expect.stringMatching(/\/data\/pglite$/),
      redisUrl: undefined,
      natsUrl: undefined,
      natsStream: 'BOURSE',
      natsPrefix: undefined,
      natsReplicas: 1,
      logLevel: 'info',
      demo: true,
      demoRate: 5,
      seed: 42,
      commitMaxBatch: 2000,
      fixPort: 9878,
      shutdownTimeoutMs: 10_000,
      orders: {
        projectMaxBatch: 20_000,
        projectGatherMs: 50,
        snapshotEvery: 100_000,
        snapshotIntervalMs: 300_000,
        idempotencyWindowMs: 86_400_000,
        idempotencyMaxKeys: 1_000_000,
        journalRetain: 100_000,
        archiveDir: expect.stringMatching(/\/data\/journal-archive$/),
        shard: 0,
        shards: 1,
        leaseMs: 5000,
      },
    });
  });

  it('reads every variable, treating empty as unset', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '127.0.0.1',
      BOURSE_DATA_DIR: '/var/lib/bourse',
      DATABASE_URL: 'postgres://u:p@db:5432/bourse',
      REDIS_URL: 'redis://cache:6379',
      NATS_URL: 'nats://n1:4222, nats://n2:4222',
      BOURSE_NATS_STREAM: 'BOURSE_STAGING',
      LOG_LEVEL: 'debug',
      BOURSE_DEMO: 'off',
      BOURSE_SEED: '7',
      BOURSE_COMMIT_MAX_BATCH: '500',
      BOURSE_FIX_PORT: 'off',
      BOURSE_SHUTDOWN_TIMEOUT_MS: '2500',
    });
    expect(config).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      dataDir: '/var/lib/bourse',
      pgliteDir: '/var/lib/bourse/pglite',
      databaseUrl: 'postgres://u:p@db:5432/bourse',
      natsUrl: 'nats://n1:4222, nats://n2:4222',
      natsStream: 'BOURSE_STAGING',
      logLevel: 'debug',
      demo: false,
      seed: 7,
      commitMaxBatch: 500,
      fixPort: null,
      shutdownTimeoutMs: 2500,
    });
    expect(loadConfig({ BOURSE_FIX_PORT: '0' }).fixPort).toBe(0);
    // a prefix gets its own stream unless one is named
    expect(loadConfig({ BOURSE_NATS_PREFIX: 'eu.staging' })).toMatchObject({
      natsPrefix: 'eu.staging',
      natsStream: 'BOURSE_eu_staging',
    });
    expect(loadConfig({ BOURSE_NATS_PREFIX: 'b', BOURSE_NATS_STREAM: 'MINE' }).natsStream).toBe('MINE');
    expect(
      loadConfig({
        BOURSE_JOURNAL_RETAIN: 'all',
        BOURSE_ARCHIVE_DIR: '/srv/archive',
        BOURSE_DEMO_RATE: '50',
      }),
    ).toMatchObject({ demoRate: 50, orders: { journalRetain: null, archiveDir: '/srv/archive' } });
    expect(loadConfig({ BOURSE_JOURNAL_RETAIN: '0' }).orders.journalRetain).toBe(0);
    expect(() => loadConfig({ BOURSE_JOURNAL_RETAIN: '7d' })).toThrow(/BOURSE_JOURNAL_RETAIN/);
    expect(() => loadConfig({ BOURSE_DEMO_RATE: '0' })).toThrow(/BOURSE_DEMO_RATE/);
    expect(loadConfig({ DATABASE_URL: '', PORT: ' ' })).toMatchObject({ databaseUrl: undefined, port: 8080 });
  });

  it('reads the internal tokens (current first), mutual TLS files and metrics tokens', () => {
    const current = 'c'.repeat(32);
    const next = 'n'.repeat(40);
    const config = loadConfig({
      BOURSE_INTERNAL_TOKEN: `${current}, ${next}`,
      BOURSE_INTERNAL_TLS_CA: '/tls/ca.pem',
      BOURSE_INTERNAL_TLS_CERT: '/tls/orders.pem',
      BOURSE_INTERNAL_TLS_KEY: '/tls/orders.key',
      BOURSE_METRICS_TOKEN: 'm'.repeat(32),
    });
    expect(config.internalTokens).toEqual([current, next]);
    expect(config.internalTls).toEqual({
      ca: '/tls/ca.pem',
      cert: '/tls/orders.pem',
      key: '/tls/orders.key',
    });
    expect(config.metricsTokens).toEqual(['m'.repeat(32)]);
  });

  it('refuses a short internal token without echoing it, and half a TLS configuration', () => {
    const err = (() => {
      try {
        loadConfig({ BOURSE_INTERNAL_TOKEN: 'short-token-value', BOURSE_INTERNAL_TLS_CA: '/tls/ca.pem' });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('accepted');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems).toHaveLength(2);
    expect(err.message).toContain('BOURSE_INTERNAL_TOKEN=(hidden)');
    expect(err.message).not.toContain('short-token-value');
    expect(err.message).toContain('BOURSE_INTERNAL_TLS_CA, _CERT and _KEY');
  });

  it('names every bad variable at once', () => {
    const bad = {
      PORT: '80a',
      DATABASE_URL: 'mysql://x',
      REDIS_URL: 'not a url',
      NATS_URL: 'nats://ok:4222,http://no',
      LOG_LEVEL: 'loud',
      BOURSE_DEMO: 'yes',
      BOURSE_SEED: '-1',
      BOURSE_COMMIT_MAX_BATCH: '0',
      BOURSE_NATS_STREAM: 'a.b',
      BOURSE_NATS_PREFIX: 'md.>',
      BOURSE_FIX_PORT: 'on',
      BOURSE_SHUTDOWN_TIMEOUT_MS: '0',
    };
    let error: unknown;
    try {
      loadConfig(bad);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.split('=')[0])).toEqual([
      'PORT',
      'DATABASE_URL',
      'REDIS_URL',
      'NATS_URL',
      'BOURSE_NATS_STREAM',
      'BOURSE_NATS_PREFIX',
      'LOG_LEVEL',
      'BOURSE_DEMO',
      'BOURSE_SEED',
      'BOURSE_COMMIT_MAX_BATCH',
      'BOURSE_FIX_PORT',
      'BOURSE_SHUTDOWN_TIMEOUT_MS',
    ]);
    expect(problems[0]).toBe('PORT="80a": expected an integer from 0 to 65535');
    expect((error as Error).message).toContain("BOURSE_DEMO=\"yes\": expected 'on' or 'off'");
  });

  it('documents every variable it reads, with a description', () => {
    const names = configVariables.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const v of configVariables) expect(v.description.length).toBeGreaterThan(10);
    // each documented default is itself valid
    expect(() =>
      loadConfig(Object.fromEntries(configVariables.map((v) => [v.name, v.default]))),
    ).not.toThrow();
  });
});
