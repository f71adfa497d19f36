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
}

export type RequestFactory = (i: number) => LoadRequest;

export interface WorkloadModule {
  createRequests(context: unknown): RequestFactory;
}
