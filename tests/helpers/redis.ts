/** Redis housekeeping for tests that share the machine's Redis under a unique key prefix. */
import type Redis from 'ioredis';

/** Delete every key under `prefix` (SCAN + UNLINK; never FLUSH a shared Redis). */
export async function deleteKeys(admin: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await admin.unlink(...found);
  } while (cursor !== '0');
}
