/**
 * The account a request acts on. Everyone acts on their own account (the orders service's account
 * id is the user id) unless they name another with `?account_id=` or the `Bourse-Account-Id`
 * header: a broker may name their brokerage's clients, an admin anyone, an investor no one. The
 * users service decides (canActFor); its answers are cached for `actingCacheMs`. A refused or
 * unknown account is the same 403, so that nobody can probe which accounts exist.
 */
import type { GatewayConfig } from '../config.ts';
import { forbidden, invalidField } from '../problems.ts';
import type { Identity, UsersCall } from './credentials.ts';
import { TtlMap } from './ttl-map.ts';

export const ACCOUNT_HEADER = 'bourse-account-id';

export interface Acting {
  accountOf(
    identity: Identity,
    named: { query?: string | undefined; header?: string | undefined },
    requestId: string,
  ): Promise<string>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createActing(config: GatewayConfig, users: UsersCall): Acting {
  const answers = new TtlMap<boolean>(100_000);
  return {
    async accountOf(identity, named, requestId) {
      if (named.header !== undefined && !UUID.test(named.header)) {
        throw invalidField('headers', ACCOUNT_HEADER, 'must be a user id (UUID)');
      }
      if (named.query !== undefined && !UUID.test(named.query)) {
        throw invalidField('querystring', 'account_id', 'must be a user id (UUID)');
      }
      if (named.query !== undefined && named.header !== undefined && named.query !== named.header) {
        throw invalidField('querystring', 'account_id', `differs from the ${ACCOUNT_HEADER} header`);
      }
      const target = (named.query ?? named.header)?.toLowerCase();
      if (target === undefined || target === identity.userId) return identity.userId;
      if (identity.role === 'investor') throw forbidden('An investor acts on their own account only');
      const key = `${identity.userId}:${identity.role}:${identity.brokerageId}:${target}`;
      let allowed = answers.get(key);
      if (allowed === undefined) {
        allowed = await users(requestId, (u) => u.canActFor(identity, target));
        answers.set(key, allowed, config.actingCacheMs);
      }
      if (!allowed) throw forbidden(`Not allowed to act for account ${target}`);
      return target;
    },
  };
}
