import type { Logger } from '../logger.ts';
import type { Bus } from './types.ts';

export interface BusConfig {
  /** NATS JetStream when set; otherwise the in-process bus. */
  natsUrl?: string | undefined;
  natsStream?: string | undefined;
  /** every subject on the wire is `<natsPrefix>.<subject>` (BOURSE_NATS_PREFIX); unset: no prefix */
  natsPrefix?: string | undefined;
  /** BOURSE_NATS_REPLICAS */
  natsReplicas?: number | undefined;
}

/** The NATS client is imported only when a NATS_URL is configured. */
export async function openBus(config: BusConfig, logger?: Logger): Promise<Bus> {
  if (config.natsUrl) {
    const { openNatsBus } = await import('./nats.ts');
    return openNatsBus({
      servers: config.natsUrl,
      stream: config.natsStream,
      subjectPrefix: config.natsPrefix ? `${config.natsPrefix}.` : '',
      replicas: config.natsReplicas,
      logger,
    });
  }
  const { createMemoryBus } = await import('./memory.ts');
  return createMemoryBus({ logger });
}
