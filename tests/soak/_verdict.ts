/**
 * What a soak run must show (issue 12): nothing acknowledged is lost or damaged, the stable
 * members' resources stay within 10 % of their level after the warm-up, and so do the
 * bootstrap node's, which holds relay reservations for live members only.
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
  // The bootstrap node, sampled with as many members live at both moments: its sockets and
  // threads follow the members, and it holds a relay reservation for live members only.
  const { warm, end } = r.server;
  if (end.fds > warm.fds * 1.1 + 4) problems.push(`server: fds ${warm.fds} → ${end.fds}`);
  if (end.threads > warm.threads * 1.1 + 2) {
    problems.push(`server: threads ${warm.threads} → ${end.threads}`);
  }
  if (end.reservations > r.membersAtOnce) {
    problems.push(
      `server: ${end.reservations} relay reservations held for ${r.membersAtOnce} live members`,
    );
  }
  return problems;
}
