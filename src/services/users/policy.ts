/**
 * Who may see or act for whom. Brokerages are tenants: an investor is only themselves, a broker
 * also every investor of their own brokerage, an admin everyone. Callers answer 404 (not 403)
 * when this says no about a specific user, so that probing ids tells nothing.
 */
import type { Identity, Role } from './client.ts';

export interface Subject {
  id: string;
  role: Role;
  brokerage_id: string | null;
}

export function canActFor(actor: Identity, target: Subject): boolean {
  if (actor.role === 'admin') return true;
  if (actor.userId === target.id) return true;
  return (
    actor.role === 'broker' &&
    actor.brokerageId !== null &&
    target.role === 'investor' &&
    target.brokerage_id === actor.brokerageId
  );
}
