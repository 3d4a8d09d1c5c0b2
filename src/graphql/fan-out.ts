/**
 * `run` over `items` with at most `limit` calls in flight, the answers in the items' order; the
 * first failure rejects. A Worker request holds at most 6 outgoing connections at once
 * (Cloudflare's limit), so asking more rooms at a time would only queue them.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
