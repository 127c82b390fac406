/** A token bucket: `perSec` tokens a second, at most `burst` saved up. */
export interface RateLimiter {
  /** Take one token; false when none is left. */
  take(): boolean;
}

export function createRateLimiter(perSec: number, burst: number, now: () => number = () => performance.now()): RateLimiter {
  let tokens = burst;
  let last = now();
  return {
    take() {
      const t = now();
      tokens = Math.min(burst, tokens + ((t - last) / 1000) * perSec);
      last = t;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
