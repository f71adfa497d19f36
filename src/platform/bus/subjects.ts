/** The subject families Bourse publishes on; the JetStream stream captures exactly these. */
export const STREAM_SUBJECTS: readonly string[] = ['md.>', 'orders.>', 'users.>', 'news.>'];

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
 * Publishing is allowed only inside the stream, and a subscription must fall inside one of its
 * subject families: JetStream (2.9) refuses any other consumer filter, so the in-process bus
 * refuses it too rather than accept what a cluster would not.
 */
export function checkSubject(subject: string): void {
  if (!isSubject(subject)) throw new Error(`Invalid bus subject ${JSON.stringify(subject)}`);
  if (!STREAM_SUBJECTS.some((family) => matches(family, subject))) {
    throw new Error(`Bus subject ${subject} is outside ${STREAM_SUBJECTS.join(', ')}`);
  }
}

export function checkPattern(pattern: string): void {
  if (!isPattern(pattern)) throw new Error(`Invalid bus subscription ${JSON.stringify(pattern)}`);
  if (!STREAM_SUBJECTS.some((family) => isSubset(pattern, family))) {
    throw new Error(`Bus subscription ${pattern} is not within one of ${STREAM_SUBJECTS.join(', ')}`);
  }
}
