/**
 * The benchmark clock: every figure is a pair of operations measured in alternating slices in
 * the same process, so that frequency scaling, a noisy neighbour or a GC pause hits both sides
 * of a ratio alike.
 */

export const SLICE_MS = 25;
const WARMUP_MS = 300;

/** Runs `fn` for about `ms` milliseconds; returns the operation count and the exact time taken. */
export function slice(ms: number, fn: (i: number) => void, first: number): { ops: number; ms: number } {
  const start = performance.now();
  const deadline = start + ms;
  let n = 0;
  let now = start;
  while (now < deadline) {
    // Check the clock every 8 operations to keep its cost out of the measurement.
    for (let k = 0; k < 8; k++) fn(first + n++);
    now = performance.now();
  }
  return { ops: n, ms: now - start };
}

/**
 * Operations per second of `a` and `b` after a warm-up of each, alternating slices until each
 * ran for at least `measureMs`.
 */
export function race(a: (i: number) => void, b: (i: number) => void, measureMs: number): [number, number] {
  slice(WARMUP_MS, a, 0);
  slice(WARMUP_MS, b, 0);
  const total = { aOps: 0, aMs: 0, bOps: 0, bMs: 0 };
  while (total.aMs < measureMs || total.bMs < measureMs) {
    const x = slice(SLICE_MS, a, total.aOps);
    total.aOps += x.ops;
    total.aMs += x.ms;
    const y = slice(SLICE_MS, b, total.bOps);
    total.bOps += y.ops;
    total.bMs += y.ms;
  }
  return [(total.aOps * 1000) / total.aMs, (total.bOps * 1000) / total.bMs];
}
