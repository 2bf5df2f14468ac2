/**
 * Runs `work(0) … work(count - 1)` with at most `limit` in flight. Real-Swarm set-ups that store
 * hundreds of specs spend most of their time waiting on the Docker API, one round trip after another;
 * a few at once cut that wait without flooding the daemon.
 */
export async function forEachIndex(count: number, limit: number, work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next;
      next += 1;
      await work(i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, lane));
}
