import pg from 'pg';

export interface ListenerOptions {
  url: string;
  channel: string;
  onMessage(message: string): void;
  /** Told about connection trouble; the listener reconnects by itself. */
  onError(error: Error, retryInMs: number): void;
  /** Told when a lost connection is back (notifications may have been missed meanwhile). */
  onReconnect(): void;
}

/**
 * LISTEN on a dedicated connection that comes back by itself, with back-off, after the
 * database goes away. Notifications sent while it was down are lost, so `onReconnect` lets the
 * caller look for work at once.
 */
export async function listen(options: ListenerOptions): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  let closed = false;
  let attempt = 0;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: options.url });
    c.on('notification', (n) => options.onMessage(n.payload ?? ''));
    c.on('error', (error) => scheduleReconnect(error));
    c.on('end', () => {
      if (!closed && client === c) scheduleReconnect(new Error('notification connection ended'));
    });
    await c.connect();
    await c.query(`LISTEN "${options.channel}"`);
    client = c;
    if (attempt > 0) options.onReconnect();
    attempt = 0;
  };

  const scheduleReconnect = (error: Error) => {
    if (closed || retry) return;
    const old = client;
    client = undefined;
    old?.end().catch(() => {});
    attempt++;
    const delay = Math.min(100 * 2 ** attempt, 10_000);
    options.onError(error, delay);
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch((e: Error) => scheduleReconnect(e));
    }, delay);
  };

  await connect();
  return async () => {
    closed = true;
    if (retry) clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}
