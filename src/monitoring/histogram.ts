/**
 * Latency histograms on the router's fixed buckets. Counts per bucket add up exactly, so
 * histograms of many minutes (or many workers) merge by addition and the percentiles of the
 * merged histogram are those of all the requests together, to one bucket's accuracy.
 */
import { BUCKETS_MS } from '../router/metrics.ts';

export { BUCKETS_MS };
export const BUCKET_COUNT = BUCKETS_MS.length;

export const emptyBuckets = (): number[] => new Array<number>(BUCKET_COUNT).fill(0);

/** Adds `from` into `into`, bucket by bucket. */
export function addBuckets(into: number[], from: readonly number[]): void {
  for (let i = 0; i < BUCKET_COUNT; i++) into[i] = (into[i] ?? 0) + (from[i] ?? 0);
}

/**
 * The q-quantile (0 < q ≤ 1) in ms, interpolated linearly inside its bucket; the open last bucket
 * reports its lower edge. Null for an empty histogram.
 */
export function quantileMs(buckets: readonly number[], q: number): number | null {
  let total = 0;
  for (const n of buckets) total += n;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < BUCKET_COUNT; i++) {
    const n = buckets[i] ?? 0;
    if (n > 0 && seen + n >= rank) {
      const lo = i === 0 ? 0 : BUCKETS_MS[i - 1]!;
      const hi = BUCKETS_MS[i]!;
      if (!Number.isFinite(hi)) return lo;
      return Math.round((lo + ((hi - lo) * (rank - seen)) / n) * 1000) / 1000;
    }
    seen += n;
  }
  return BUCKETS_MS[BUCKET_COUNT - 2]!;
}
