/** A load-generator workload for the tests: request i asks the test server for statuses[i mod n]. */
import type { RequestFactory } from '../../bench/lib/load/request.ts';

export function createRequests(context: unknown): RequestFactory {
  const { statuses } = context as { statuses: string[] };
  return (i) => ({ method: 'GET', path: `/status/${statuses[i % statuses.length]}` });
}
