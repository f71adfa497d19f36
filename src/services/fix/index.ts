/**
 * The FIX service: FIX 4.4 order entry on a TCP port, in front of the orders service.
 *
 *   const fix = await createFixService({ db, bus, clock, logger, orders, users, limiter, config });
 *   fix.port                  // where it listens (config.port 0: a free one)
 *   await fix.close();        // Logout to every session, flush their stores, stop listening
 *
 * It reaches the orders service through its typed client (in-process in the all-in-one process,
 * HTTP across processes) and follows its execution events on the bus; API keys are verified by
 * the users service's client. It owns its own tables (migrations/006_fix.sql): sessions, their
 * sequence numbers and sent messages, and what each session reported about each order. The
 * session layer is jspurefix's; the rules of engagement are in docs/fix-rules-of-engagement.md.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Bus } from '../../platform/bus/types.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import type { Logger } from '../../platform/logger.ts';
import type { BucketRule, RateLimiter } from '../../platform/ratelimit/types.ts';
import type { OrdersClient } from '../orders/client.ts';
import type { UsersClient } from '../users/client.ts';
import { createDesk } from './desk.ts';
import { fixLogFactory } from './engine-log.ts';
import {
  DITokens,
  type IJsFixConfig,
  type ISessionDescription,
  MsgTransport,
  makeSessionScope,
  SessionContainer,
  TcpDuplex,
} from './jspurefix.ts';
import { BEGIN_STRING, createLogonVerifier, OUR_COMP_ID } from './logon.ts';
import { createOrderRecords } from './order-records.ts';
import { FixSession } from './session.ts';
import { BourseSessionMsgFactory } from './session-messages.ts';
import { DbSessionStore } from './session-store.ts';

export { BEGIN_STRING, OUR_COMP_ID } from './logon.ts';

export interface FixConfig {
  /** 0: any free port */
  port: number;
  host: string;
  /** logon attempts per client address and per API key id */
  logonPerIp: BucketRule;
  logonPerKey: BucketRule;
  /** order messages (new, cancel, replace) per user */
  orderRule: BucketRule;
}

export interface FixServiceDeps {
  db: Db;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  orders: OrdersClient;
  users: UsersClient;
  limiter: RateLimiter;
  config: FixConfig;
}

export interface FixService {
  readonly port: number;
  /** sessions logged on now */
  sessions(): number;
  close(): Promise<void>;
}

/** The engine's view of our side: an acceptor answering any SenderCompID, as BOURSE. */
function acceptorDescription(config: FixConfig): ISessionDescription {
  return {
    application: {
      type: 'acceptor',
      name: 'bourse-fix',
      protocol: 'ascii',
      dictionary: 'qf44',
      tcp: { host: config.host, port: config.port },
      reconnectSeconds: 0,
    },
    BeginString: BEGIN_STRING,
    SenderCompId: OUR_COMP_ID,
    TargetCompID: '*',
    HeartBtInt: 30,
    ResetSeqNumFlag: false,
    Username: '',
    Password: '',
    SenderSubID: '',
    TargetSubID: '',
    Name: 'bourse-fix',
  } as ISessionDescription;
}

export async function createFixService(deps: FixServiceDeps): Promise<FixService> {
  const { db, bus, clock, config, orders, users, limiter } = deps;
  const logger = deps.logger.child({ service: 'fix' });

  const container = new SessionContainer((description) => new BourseSessionMsgFactory(description));
  container.registerGlobal(fixLogFactory(logger));
  const system = await container.makeSystem(acceptorDescription(config));
  const engine = system.resolve<IJsFixConfig>(DITokens.IJsFixConfig);

  const verify = createLogonVerifier({
    users,
    limiter,
    policy: { perIp: config.logonPerIp, perKey: config.logonPerKey },
    logger,
  });
  const live = new Map<string, FixSession>();
  const connected = new Set<FixSession>();
  let nextTransport = 0;
  let closing = false;

  function accept(socket: Socket): void {
    if (closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const remoteIp = socket.remoteAddress ?? '?';
    const scoped = makeSessionScope(engine);
    const transport = new MsgTransport(++nextTransport, scoped, new TcpDuplex(socket));
    const session = new FixSession(scoped, {
      remoteIp,
      logger,
      verify,
      openStore: (key, onFenced) =>
        new DbSessionStore({ db, clock, logger, key, ourCompId: OUR_COMP_ID, onFenced }),
      openDesk: ({ identity, sessionId, send }) =>
        createDesk({
          orders,
          users,
          bus,
          records: createOrderRecords(db, sessionId, clock),
          limiter,
          orderRule: config.orderRule,
          identity,
          clock,
          logger: logger.child({ apiKeyId: identity.credentialId }),
          send,
        }),
      async claim(key, s) {
        const previous = live.get(key);
        live.set(key, s);
        // the old connection is stale (half open, or the client is already here again): no Logout
        if (previous && previous !== s)
          await previous.shutdown('replaced by a new logon of this session', false);
      },
      release(key, s) {
        if (live.get(key) === s) live.delete(key);
      },
    });
    connected.add(session);
    session
      .run(transport)
      .catch(() => {}) // the session logs its own end
      .finally(() => {
        void session.ended.then(() => connected.delete(session));
      });
  }

  const server: Server = createServer(accept);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'fix: listener error'));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port }, 'fix: FIX 4.4 order entry listening');

  return {
    port,
    sessions: () => live.size,
    async close() {
      if (closing) return;
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...connected].map((s) => s.shutdown('Bourse is shutting down')));
      await stopped;
      logger.info('fix: closed');
    },
  };
}
