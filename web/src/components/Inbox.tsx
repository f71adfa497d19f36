import { useEffect } from 'react';
import { api } from '../api.ts';
import { useApi } from '../hooks.ts';
import { onNotification } from '../notifications.ts';
import type { Notification } from '../types.ts';
import { LoadState } from './Unavailable.tsx';

export function Inbox() {
  const { load, reload } = useApi<{ notifications: Notification[] }>(
    '/notifications',
    { query: { limit: 20 } },
    30_000,
  );
  useEffect(() => onNotification(() => void reload()), [reload]);
  const list = load.state === 'ok' ? load.data.notifications : [];
  const unread = list.filter((n) => n.read_at === null).length;
  return (
    <section className="panel inbox" aria-labelledby="inbox-title">
      <div className="panel-head">
        <h2 id="inbox-title">Inbox {unread > 0 && <span className="badge">{unread} unread</span>}</h2>
        <button
          type="button"
          disabled={unread === 0}
          onClick={async () => {
            await api('/notifications/read-all', { method: 'POST' });
            void reload();
          }}
        >
          Mark all read
        </button>
      </div>
      {load.state !== 'ok' ? (
        <LoadState load={load} what="Notifications" />
      ) : list.length === 0 ? (
        <p className="muted">Nothing yet.</p>
      ) : (
        <ul aria-label="Notifications inbox">
          {list.map((n) => (
            <li key={n.id} className={n.read_at ? 'read' : 'unread'}>
              <span>{n.title}</span>{' '}
              <span className="muted small">{new Date(n.created_at).toLocaleTimeString()}</span>{' '}
              {!n.read_at && (
                <button
                  type="button"
                  className="link"
                  aria-label={`Mark read: ${n.title}`}
                  onClick={async () => {
                    await api(`/notifications/${n.id}/read`, { method: 'POST' });
                    void reload();
                  }}
                >
                  mark read
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
