/**
 * Live push: the WebSockets this instance holds, by user. Fed from the bus
 * (`users.notification.*`), not from the writer directly, because the row may have been written by
 * another instance than the one holding the user's socket.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { NotificationMessage } from './events.ts';

/** What the hub needs of a socket (a `ws` WebSocket has it). */
export interface PushSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

const OPEN = 1;
/** a client that does not read gets cut off rather than buffered without bound */
const MAX_BUFFERED_BYTES = 1 << 20;
/** the same code as the market-data stream's slow-consumer cut-off */
export const CLOSE_SLOW_CONSUMER = 4008;
const MAX_SOCKETS_PER_USER = 10;

export interface PushHub {
  /** false when the user already has the maximum number of sockets */
  add(userId: string, socket: PushSocket): boolean;
  remove(userId: string, socket: PushSocket): void;
  deliver(msg: NotificationMessage): void;
  closeAll(code: number, reason: string): void;
  count(): number;
}

export function createPushHub(logger: FastifyBaseLogger): PushHub {
  const sockets = new Map<string, Set<PushSocket>>();
  const remove = (userId: string, s: PushSocket) => {
    const set = sockets.get(userId);
    if (!set) return;
    set.delete(s);
    if (set.size === 0) sockets.delete(userId);
  };
  return {
    add(userId, s) {
      let set = sockets.get(userId);
      if (!set) sockets.set(userId, (set = new Set()));
      if (set.size >= MAX_SOCKETS_PER_USER) return false;
      set.add(s);
      return true;
    },
    remove,
    deliver(msg) {
      const set = typeof msg?.userId === 'string' ? sockets.get(msg.userId) : undefined;
      if (!set || !Array.isArray(msg.notifications)) return;
      for (const s of [...set]) {
        if (s.readyState !== OPEN) continue;
        if (s.bufferedAmount > MAX_BUFFERED_BYTES) {
          logger.warn({ userId: msg.userId }, 'notification socket not reading: closed');
          s.close(CLOSE_SLOW_CONSUMER, 'slow consumer');
          remove(msg.userId, s);
          continue;
        }
        for (const n of msg.notifications) s.send(JSON.stringify({ type: 'notification', notification: n }));
      }
    },
    closeAll(code, reason) {
      for (const set of sockets.values()) for (const s of set) s.close(code, reason);
      sockets.clear();
    },
    count: () => [...sockets.values()].reduce((n, s) => n + s.size, 0),
  };
}
