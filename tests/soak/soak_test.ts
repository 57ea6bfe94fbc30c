/**
 * The quick form of the churn soak that `deno task test` (and CI) runs: 3 minutes, 8
 * members in their own processes (3 stay throughout), a join, a graceful leave or a crash
 * every 10 s, every live member sending a message each second. Asserts what the long form
 * (`deno task soak`, 30 minutes, 20 members) asserts: no acknowledged message lost or
 * damaged, and the staying members' heap after GC, file descriptors, threads and timers
 * within 10 % of their level after the warm-up. Prints one `RELIABILITY` JSON line.
 */
import { assertEquals } from "@std/assert";
import { runSoak } from "./_soak.ts";
import { soakVerdict } from "./_verdict.ts";

Deno.test("churn soak, quick form (3 min, 8 members, joins/leaves/crashes): nothing acknowledged lost, resources flat", async () => {
  const result = await runSoak({
    minutes: Number(Deno.env.get("MESHMEET_SOAK_MINUTES") ?? 3),
    members: 8,
    stable: 3,
    churnEveryMs: 10_000,
  });
  console.log(`RELIABILITY ${JSON.stringify({ test: "soak_quick", ...result })}`);
  assertEquals(soakVerdict(result), []);
});
