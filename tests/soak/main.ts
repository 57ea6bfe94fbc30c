/**
 * `deno task soak`: the churn soak (`_soak.ts`), 30 minutes with 20 members by default.
 *
 *     deno task soak [--minutes 30] [--members 20] [--stable 5] [--churn-ms 20000]
 *
 * Prints progress on stderr and one `SOAK {…}` JSON line with the figures; exits with 1 when
 * an acknowledged message was lost or damaged, a stable member's file descriptors, threads,
 * timers or heap after GC grew by more than 10 % after the warm-up, or the bootstrap node's
 * file descriptors or threads did, or it held relay reservations for members no longer there.
 *
 * @module
 */
import { runSoak } from "./_soak.ts";
import { soakVerdict } from "./_verdict.ts";

const args = Deno.args;
const value = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const result = await runSoak({
  minutes: value("minutes", 30),
  members: value("members", 20),
  stable: value("stable", 5),
  churnEveryMs: value("churn-ms", 20_000),
  log: (line) => console.error(`[soak] ${line}`),
});
console.log(`SOAK ${JSON.stringify(result)}`);
const problems = soakVerdict(result);
for (const p of problems) console.error(`[soak] FAIL: ${p}`);
Deno.exit(problems.length === 0 ? 0 : 1);
