/**
 * Paper funding reads registrations through a durable consumer (issue 11): investors who register
 * while no funding process runs are funded when one starts again, each exactly once, on the
 * in-process bus and on NATS JetStream.
 */
import { expect, it, onTestFinished } from 'vitest';
import { PAPER_CASH_CENTS, startPaperFunding } from '../../src/cli/demo/paper-funding.ts';
import { registeredSubject, type UserRegisteredMessage } from '../../src/services/users/events.ts';
import { logger, startService } from '../orders/support/service.ts';
import { forEachBus } from '../support/bus.ts';
import { makePgliteDb } from '../support/db.ts';

const investor = (userId: string): UserRegisteredMessage => ({
  userId,
  username: userId,
  role: 'investor',
  brokerageId: null,
});

async function eventually(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

forEachBus('paper funding', (makeBus) => {
  it('funds the registrations published while it was down, once each', async () => {
    const bus = await makeBus();
    const made = await makePgliteDb();
    onTestFinished(() => made.dispose());
    const orders = await startService(made.value, {}, bus);
    onTestFinished(() => orders.close());
    const cash = async (account: string) => (await orders.client.balance(account)).cash;

    const stop = await startPaperFunding(bus, orders.client, logger);
    await bus.publish(registeredSubject('pf-early'), investor('pf-early'));
    await eventually(async () => (await cash('pf-early').catch(() => 0)) > 0);
    await stop(); // the process that funds goes down

    for (const id of ['pf-1', 'pf-2', 'pf-3']) await bus.publish(registeredSubject(id), investor(id));
    await bus.publish(registeredSubject('pf-broker'), { ...investor('pf-broker'), role: 'broker' });

    const again = await startPaperFunding(bus, orders.client, logger);
    onTestFinished(() => again());
    for (const id of ['pf-1', 'pf-2', 'pf-3'])
      await eventually(async () => (await cash(id).catch(() => 0)) > 0);
    // a redelivered registration (at least once) pays nothing more: the deposit is keyed by user
    await bus.publish(registeredSubject('pf-1'), investor('pf-1'));
    await new Promise((r) => setTimeout(r, 200));
    await orders.sequencer.barrier();
    for (const id of ['pf-early', 'pf-1', 'pf-2', 'pf-3']) expect(await cash(id)).toBe(PAPER_CASH_CENTS);
    expect(await cash('pf-broker')).toBe(0); // investors only
  });
});
