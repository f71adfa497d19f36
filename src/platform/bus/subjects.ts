/**
 * The subject families Bourse publishes on, in two retention classes (issue 11):
 *
 * - `STREAM_SUBJECTS`, ordinary events: kept for a time (the NATS stream's `max_age`, 1 h by
 *   default), then dropped whether or not a consumer read them. A durable consumer of these that
 *   has had no subscriber for `DURABLE_INACTIVE_MS` is removed.
 * - `KEPT_SUBJECTS`, kept until consumed: a message stays until every durable consumer over its
 *   subject that existed when it was published has acknowledged it, however long that takes, and
 *   durable consumers of these never expire. The orders shards' messages to each other, whose
 *   receiver applies message n only after n − 1: one message lost to retention would stop its
 *   channel for ever.
 *
 * On NATS each class is one JetStream stream (JetStream streams may not overlap, hence `orders.*`,
 * `orders.exec.>` and `orders.account.>` rather than `orders.>`). A subscription lies within one
 * family, so within one class.
 */
export const STREAM_SUBJECTS: readonly string[] = [
  'md.>',
  'orders.*',
  'orders.exec.>',
  'orders.account.>',
  'users.>',
  'news.>',
];
export const KEPT_SUBJECTS: readonly string[] = ['orders.shard.>'];

const FAMILIES: readonly string[] = [...STREAM_SUBJECTS, ...KEPT_SUBJECTS];

export type Retention = 'limits' | 'until-consumed';

// NATS tokens: non-empty, no whitespace, no dots; wildcards only as whole tokens.
const TOKEN = /^[^\s.*>]+$/;

/** A concrete subject to publish on: `md.trade.AAPL`. */
export function isSubject(subject: string): boolean {
  return subject.split('.').every((token) => TOKEN.test(token));
}

/** A subscription pattern: tokens, `*` for exactly one token, a final `>` for one or more. */
export function isPattern(pattern: string): boolean {
  const tokens = pattern.split('.');
  return tokens.every((t, i) => TOKEN.test(t) || t === '*' || (t === '>' && i === tokens.length - 1));
}

/** NATS matching, for the in-process bus (and to check a subject is inside the stream). */
export function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return s.length > i;
    if (i >= s.length || (token !== '*' && token !== s[i])) return false;
  }
  return p.length === s.length;
}

/** Every subject `pattern` matches is also matched by `wider`. */
export function isSubset(pattern: string, wider: string): boolean {
  const p = pattern.split('.');
  const w = wider.split('.');
  for (let i = 0; i < w.length; i++) {
    const token = w[i];
    if (token === '>') return p.length > i;
    const mine = p[i];
    if (mine === undefined || mine === '>' || (token !== '*' && token !== mine)) return false;
  }
  return p.length === w.length;
}

/**
 * Publishing is allowed only inside the streams, and a subscription must fall inside one of their
 * subject families: JetStream (2.9) refuses any other consumer filter, so the in-process bus
 * refuses it too rather than accept what a cluster would not.
 */
export function checkSubject(subject: string): void {
  if (!isSubject(subject)) throw new Error(`Invalid bus subject ${JSON.stringify(subject)}`);
  if (!FAMILIES.some((family) => matches(family, subject))) {
    throw new Error(`Bus subject ${subject} is outside ${FAMILIES.join(', ')}`);
  }
}

export function checkPattern(pattern: string): void {
  if (!isPattern(pattern)) throw new Error(`Invalid bus subscription ${JSON.stringify(pattern)}`);
  if (!FAMILIES.some((family) => isSubset(pattern, family))) {
    throw new Error(`Bus subscription ${pattern} is not within one of ${FAMILIES.join(', ')}`);
  }
}

/** The retention class of a valid subject, or of a pattern that passed checkPattern. */
export function retentionOf(subjectOrPattern: string): Retention {
  return KEPT_SUBJECTS.some((family) => isSubset(subjectOrPattern, family)) ? 'until-consumed' : 'limits';
}
