/** Free loopback ports for the processes of a local cluster. */
import { createServer } from 'node:net';

/**
 * `count` distinct ports that were free a moment ago (the OS's choice for port 0). Another process
 * may take one before ours binds it: the caller's start then fails and says which port.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, host, () => resolve(server));
        }),
    ),
  );
  // all held open at once, so the ports are distinct
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
