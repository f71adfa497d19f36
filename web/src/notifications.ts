/**
 * The notifications stream (`/notifications/stream`): authenticated by its first message (a
 * browser cannot set headers on a WebSocket, and a token never goes in a URL). The server closes
 * it when the access token expires (4401): it reconnects with the fresh one. Any drop reconnects
 * with backoff.
 */
import { accessToken, refresh, wsUrl } from './api.ts';
import { listen } from './lib/frame.ts';
import type { Notification } from './types.ts';

type Listener = (n: Notification) => void;
const listeners = new Set<Listener>();
const stateListeners = new Set<(up: boolean) => void>();
let socket: WebSocket | null = null;
let running = false;
let backoff = 1_000;
let retry: ReturnType<typeof setTimeout> | undefined;

export const onNotification = (l: Listener) => listen(listeners, l);
export const onNotificationsState = (l: (up: boolean) => void) => listen(stateListeners, l);

function connect(): void {
  if (!running || socket || !accessToken()) return;
  const ws = new WebSocket(wsUrl('/notifications/stream'));
  socket = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', access_token: accessToken() }));
  ws.onmessage = (ev) => {
    try {
      const m = JSON.parse(String(ev.data)) as { type?: string; notification?: Notification };
      if (m.type === 'ready') {
        backoff = 1_000;
        for (const l of stateListeners) l(true);
      } else if (m.type === 'notification' && m.notification) {
        for (const l of listeners) l(m.notification);
      }
    } catch {
      // not ours
    }
  };
  ws.onclose = async (ev) => {
    socket = null;
    for (const l of stateListeners) l(false);
    if (!running) return;
    if (ev.code === 4401) await refresh();
    retry = setTimeout(connect, ev.code === 4401 ? 0 : backoff);
    backoff = Math.min(backoff * 2, 30_000);
  };
}

export function startNotifications(): void {
  if (running) return;
  running = true;
  connect();
}

export function stopNotifications(): void {
  running = false;
  clearTimeout(retry);
  socket?.close();
  socket = null;
}
