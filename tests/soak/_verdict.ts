/**
 * What a soak run must show (issue 12): nothing acknowledged is lost or damaged, and the
 * stable members' resources stay within 10 % of their level after the warm-up.
 *
 * @module
 */
import type { SoakResult } from "./_soak.ts";

/**
 * The problems of a soak run (empty when it passed).
 *
 * @param r The result.
 * @returns One line per problem.
 */
export function soakVerdict(r: SoakResult): string[] {
  const problems: string[] = [];
  if (r.acked === 0) problems.push("no message was acknowledged");
  if (r.lostAcked > 0) problems.push(`${r.lostAcked} acknowledged messages never arrived`);
  if (r.damaged > 0) problems.push(`${r.damaged} messages arrived damaged`);
  for (const s of r.samples) {
    // 10 % plus a small absolute allowance for counts that are small to begin with.
    const over = (key: "fds" | "threads" | "timers" | "heapMB", slack: number) => {
      if (s.end[key] > s.warm[key] * 1.1 + slack) {
        problems.push(`${s.name}: ${key} ${s.warm[key]} → ${s.end[key]} (more than 10 %)`);
      }
    };
    over("fds", 2);
    over("threads", 2);
    // Both samples are taken with no traffic (see QUIET_MS in _soak.ts): a few either way
    // from periodic work (re-announce, lookups, relay walk) that happens to be in flight.
    over("timers", 8);
    over("heapMB", 1);
  }
  return problems;
}
