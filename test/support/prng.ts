/** mulberry32: a small, fast seeded PRNG, good enough to drive simulations and benchmarks reproducibly. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  function pick<T>(items: readonly T[]): T | undefined {
    return items[int(items.length)];
  }
  return { next, int, pick, chance: (p: number): boolean => next() < p };
}
export type Rng = ReturnType<typeof prng>;
