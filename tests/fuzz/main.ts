/**
 * The long fuzz run: every target of `_targets.ts` and `_http_targets.ts` with
 * `--runs` cases each (default 100,000), one line per target, then a JSON summary.
 *
 *     deno task fuzz [--runs 100000] [--only <substring>]
 */
import fc from "fast-check";
import { decoderTargets } from "./_targets.ts";
import { inMemoryProperty, socketProperty } from "./_http_targets.ts";

const argRuns = Deno.args.indexOf("--runs");
const runs = argRuns >= 0 ? Number(Deno.args[argRuns + 1]) : 100_000;
const argOnly = Deno.args.indexOf("--only");
const only = argOnly >= 0 ? Deno.args[argOnly + 1] : undefined;

const results: Array<{ target: string; cases: number; failed: boolean; seconds: number }> = [];
const socket = await socketProperty();
const targets = [
  ...(await decoderTargets()),
  { name: "control API in memory (app.request)", property: inMemoryProperty() },
  { name: "control API over a socket (raw HTTP/1.1)", property: socket.property },
];
let failed = false;
for (const target of targets) {
  if (only && !target.name.includes(only)) continue;
  const t0 = performance.now();
  const seed = Date.now();
  const out = await fc.check(target.property as fc.IAsyncProperty<[unknown]>, {
    numRuns: runs,
    seed,
  });
  const seconds = (performance.now() - t0) / 1000;
  results.push({ target: target.name, cases: out.numRuns, failed: out.failed, seconds });
  failed ||= out.failed;
  console.log(
    `${out.failed ? "FAIL" : "ok  "} ${target.name}: ${out.numRuns} cases in ${
      seconds.toFixed(1)
    } s` +
      ` (seed ${seed})`,
  );
  if (out.failed) console.log(fc.defaultReportMessage(out));
}
await socket.server.close();
console.log(
  `FUZZ ${JSON.stringify({ runs, results, socketStatuses: Object.fromEntries(socket.statuses) })}`,
);
Deno.exit(failed ? 1 : 0);
