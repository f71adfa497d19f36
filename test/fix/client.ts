/**
 * A FIX 4.4 client for the tests: a real jspurefix INITIATOR over TCP (its own session layer:
 * logon, heartbeats, sequence numbers, gap detection and ResendRequest, gap fill), which records
 * every message it receives, as raw text split into tags.
 *
 * Its sequence numbers live in a MemorySessionStore the test owns, so a test can reconnect with
 * them (ResetSeqNumFlag N) or tamper with them to make a gap.
 */
import 'reflect-metadata';
import {
  AsciiSession,
  EmptyLogFactory,
  type EngineFactory,
  type IJsFixConfig,
  type ILooseObject,
  type ISessionDescription,
  MemorySessionStore,
  SessionId,
  SessionLauncher,
} from 'jspurefix';

export class Received {
  readonly tags = new Map<number, string>();
  constructor(readonly raw: string) {
    for (const pair of raw.split('|')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const tag = Number(pair.slice(0, eq));
      if (!this.tags.has(tag)) this.tags.set(tag, pair.slice(eq + 1));
    }
  }
  get msgType(): string {
    return this.tags.get(35) ?? '';
  }
  get seq(): number {
    return Number(this.tags.get(34));
  }
  get(tag: number): string | undefined {
    return this.tags.get(tag);
  }
}

export interface ClientOptions {
  port: number;
  senderCompId: string;
  username: string;
  password: string;
  targetCompId?: string;
  /** 141=Y on the Logon (default true) */
  resetSeqNum?: boolean;
  heartBtInt?: number;
  /** sequence numbers that survive reconnects (one per SenderCompID) */
  store?: MemorySessionStore;
}

class TestSession extends AsciiSession {
  constructor(
    config: IJsFixConfig,
    private readonly client: FixClient,
  ) {
    super(config);
  }
  protected override onApplicationMsg(): void {}
  protected override onReady(): void {
    this.client.onReady();
  }
  protected override onStopped(error?: Error): void {
    this.client.onStopped(error);
  }
  protected override onLogon(): boolean {
    return true;
  }
  protected override onDecoded(_msgType: string, txt: string): void {
    this.client.onReceived(new Received(txt));
  }
  protected override onEncoded(_msgType: string, txt: string): void {
    this.client.sent.push(new Received(txt));
  }
  sendMessage(msgType: string, body: ILooseObject): void {
    this.send(msgType, body);
  }
  drop(): void {
    this.transport?.duplex.destroy();
    this.terminate(new Error('connection dropped by the test'));
  }
  logout(): void {
    this.done();
  }
}

class Launcher extends SessionLauncher {
  constructor(
    description: ISessionDescription,
    private readonly make: (config: IJsFixConfig) => TestSession,
  ) {
    super(description, null, new EmptyLogFactory());
  }
  protected override makeFactory(): EngineFactory {
    return { makeSession: (config: IJsFixConfig) => this.make(config) } as EngineFactory;
  }
}

export function clientStore(senderCompId: string): MemorySessionStore {
  return new MemorySessionStore(new SessionId('FIX.4.4', senderCompId, 'BOURSE'));
}

export class FixClient {
  readonly received: Received[] = [];
  readonly sent: Received[] = [];
  private session: TestSession | null = null;
  private waiters: (() => void)[] = [];
  private readonly listeners: ((m: Received) => void)[] = [];
  private readyResolve!: () => void;
  private endedResolve!: (error: Error | undefined) => void;
  readonly ready = new Promise<void>((r) => {
    this.readyResolve = r;
  });
  /** the error the session ended with, if any */
  readonly ended = new Promise<Error | undefined>((r) => {
    this.endedResolve = r;
  });
  private stopped = false;
  readonly store: MemorySessionStore;

  private constructor(readonly options: ClientOptions) {
    this.store = options.store ?? clientStore(options.senderCompId);
  }

  /** Connects and sends the Logon; `ready` resolves when the answer arrives. */
  static start(options: ClientOptions): FixClient {
    const client = new FixClient(options);
    const description = {
      application: {
        type: 'initiator',
        name: `test-${options.senderCompId}`,
        protocol: 'ascii',
        dictionary: 'qf44',
        tcp: { host: '127.0.0.1', port: options.port },
        reconnectSeconds: 1,
      },
      BeginString: 'FIX.4.4',
      SenderCompId: options.senderCompId,
      TargetCompID: options.targetCompId ?? 'BOURSE',
      HeartBtInt: options.heartBtInt ?? 30,
      ResetSeqNumFlag: options.resetSeqNum ?? true,
      Username: options.username,
      Password: options.password,
    } as unknown as ISessionDescription;
    const launcher = new Launcher(description, (config) => {
      config.sessionStoreFactory = { create: () => client.store };
      client.session = new TestSession(config, client);
      return client.session;
    });
    launcher.run().then(
      () => client.onStopped(undefined),
      (err: Error) => client.onStopped(err),
    );
    return client;
  }

  /** Logs on and waits for the answer. */
  static async connect(options: ClientOptions): Promise<FixClient> {
    const client = FixClient.start(options);
    const outcome = await Promise.race([
      client.ready.then(() => 'ready' as const),
      client.ended.then(() => 'ended' as const),
    ]);
    if (outcome === 'ended') {
      const logout = client.received.find((m) => m.msgType === '5');
      throw new Error(`logon failed: ${logout?.get(58) ?? 'disconnected'}`);
    }
    return client;
  }

  onReady(): void {
    this.readyResolve();
  }
  onStopped(error: Error | undefined): void {
    if (this.stopped) return;
    this.stopped = true;
    this.endedResolve(error);
    this.notify();
  }
  onReceived(m: Received): void {
    this.received.push(m);
    for (const listen of this.listeners) listen(m);
    this.notify();
  }

  /** Called with every message received from now on. */
  onMessage(listen: (m: Received) => void): void {
    this.listeners.push(listen);
  }
  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(msgType: string, body: ILooseObject): void {
    if (!this.session) throw new Error('not connected');
    this.session.sendMessage(msgType, body);
  }

  /** The first received message (from index `from`) that matches; waits for it. */
  async waitFor(match: (m: Received) => boolean, what: string, from = 0, ms = 15_000): Promise<Received> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.received.slice(from).find(match);
      if (found) return found;
      if (this.stopped) throw new Error(`session ended while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; received:\n${this.dump()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Every received message matching, now. */
  all(match: (m: Received) => boolean): Received[] {
    return this.received.filter(match);
  }

  dump(): string {
    return this.received.map((m) => m.raw).join('\n');
  }

  /** Logout and wait for the end. */
  async logout(): Promise<void> {
    this.session?.logout();
    await this.ended;
  }

  /** Cuts the TCP connection without a Logout. */
  async drop(): Promise<void> {
    this.session?.drop();
    await this.ended;
  }
}
