/** Token lifetimes written as `<n><unit>` (`90s`, `15m`, `1h`, `7d`). */
import { RuncastError } from '../protocol/errors';

const SECONDS_PER_UNIT = { s: 1, m: 60, h: 3_600, d: 86_400 } as const;

/**
 * Parses a lifetime such as `15m`, `1h` or `7d` (units `s`, `m`, `h`, `d`; a positive
 * whole number) into **seconds**.
 * @throws RuncastError `invalid_message` when the text is not such a lifetime.
 */
export function parseTtl(ttl: string): number {
  const match = /^([1-9][0-9]{0,8})([smhd])$/.exec(typeof ttl === 'string' ? ttl.trim() : '');
  if (!match) {
    throw new RuncastError(
      'invalid_message',
      `invalid ttl ${JSON.stringify(ttl)}: expected a positive whole number followed by s, m, h or d (e.g. 15m, 1h, 7d)`,
    );
  }
  return Number(match[1]) * SECONDS_PER_UNIT[match[2] as keyof typeof SECONDS_PER_UNIT];
}
