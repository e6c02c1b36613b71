import { randomFillSync } from "node:crypto";
import { v7 as uuidv7 } from "uuid";

/**
 * Ids for `count` new jobs: UUIDv7 (RFC 9562), made by the uuid package from random bytes drawn
 * from the system POOL_IDS ids' worth at a time (as uuid itself did before version 10). Left to
 * itself it draws 16 bytes per id (Web Crypto's getRandomValues), which was 3 % of a batched job's
 * CPU in apps/api, and a draw per submit still showed on the single-submit path. Given its bytes it
 * keeps no sequence, so this does what it does unasked (method 1 of RFC 9562 §6.2): within one
 * millisecond of this process, each id's 32-bit counter is one more than the previous id's,
 * starting from 31 random bits (headroom before it wraps); a wrap moves the millisecond on. The
 * package keeps this state for `v7()` without options but does not export it. Ids made here therefore
 * increase in the order jobs are submitted, which the claim order falls back on (priority, due
 * time, id).
 */
export function newJobIds(count: number): string[] {
  return Array.from({ length: count }, () => {
    const bytes = nextRandom();
    const now = Date.now();
    if (now > clock.msecs) {
      clock.msecs = now;
      clock.seq = ((bytes[6]! & 0x7f) << 24) | (bytes[7]! << 16) | (bytes[8]! << 8) | bytes[9]!;
    } else {
      clock.seq = (clock.seq + 1) | 0;
      if (clock.seq === 0) clock.msecs++;
    }
    return uuidv7({ random: bytes, msecs: clock.msecs, seq: clock.seq });
  });
}

/** The last id's millisecond and counter, for the whole process. */
const clock = { msecs: -Infinity, seq: 0 };

/** Ids' worth of random bytes drawn from the system at once. */
const POOL_IDS = 256;
const randomPool = Buffer.alloc(16 * POOL_IDS);
let used = POOL_IDS;

/** 16 random bytes no id has had; a view of the pool, read before the next call. */
function nextRandom(): Buffer {
  if (used === POOL_IDS) {
    randomFillSync(randomPool);
    used = 0;
  }
  return randomPool.subarray(16 * used, 16 * ++used);
}
