/**
 * What the load generator sends. A workload is a module, loaded inside the generator's worker
 * thread, whose `createRequests(context)` returns request i for any i: the context (tokens,
 * account ids, symbols) crosses the thread boundary as plain data, the function does not.
 */
export interface LoadRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** the group of instances it is for (StepOptions.groups); unset: the step's url */
  group?: number;
  /**
   * With a group: the request carries a client order id (or another idempotency key), so when its
   * outcome is unknown (the connection was cut mid-request) it is sent again too: the instance that
   * answers then returns the original outcome, or executes it once.
   */
  idempotent?: boolean;
}

export type RequestFactory = (i: number) => LoadRequest;

export interface WorkloadModule {
  createRequests(context: unknown): RequestFactory;
}
