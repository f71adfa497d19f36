/**
 * What the users service publishes on the bus. Other services (and the gateway) may import this
 * file. `users.notification.<userId>`: notifications just written to the user's inbox; every
 * instance of the users service listens and pushes them to the user's WebSockets it holds.
 */

export interface NotificationView {
  id: string;
  kind: string;
  title: string;
  data: Record<string, unknown>;
  created_at: string;
  read_at: string | null;
}

export interface NotificationMessage {
  userId: string;
  notifications: NotificationView[];
}

export const notificationSubject = (userId: string): string => `users.notification.${userId}`;
export const allNotifications = 'users.notification.*';

/** `users.registered.<userId>`: a user was created (self-registration or by a broker/admin). */
export interface UserRegisteredMessage {
  userId: string;
  username: string;
  role: string;
  brokerageId: string | null;
}

export const registeredSubject = (userId: string): string => `users.registered.${userId}`;
export const allRegistrations = 'users.registered.*';
