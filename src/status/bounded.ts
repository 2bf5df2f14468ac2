/**
 * Run jobs with at most `limit` in flight, started in the order given, and wait for every one of them:
 * the result is each job's outcome, never a rejection. Callers that must not return while a write is
 * still on its way (status writes, ADR 0046) get that by construction.
 */
export async function settleBounded<T>(jobs: readonly (() => Promise<T>)[], limit: number): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array<PromiseSettledResult<T>>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < jobs.length; i = next++) {
      const job = jobs[i] as () => Promise<T>;
      try {
        results[i] = { status: 'fulfilled', value: await job() };
      } catch (reason: unknown) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, jobs.length)) }, worker));
  return results;
}
