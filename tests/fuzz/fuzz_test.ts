/**
 * The quick fuzz run (part of `deno task test`): every target with a few hundred cases.
 * `deno task fuzz` runs the same targets with ≥ 100,000 cases each (RELIABILITY.md).
 */
import fc from "fast-check";
import { decoderTargets } from "./_targets.ts";
import { inMemoryProperty, socketProperty } from "./_http_targets.ts";

const RUNS = Number(Deno.env.get("MESHMEET_FUZZ_RUNS") ?? 300);

for (const target of await decoderTargets()) {
  Deno.test(`fuzz ${target.name}`, async () => {
    await fc.assert(target.property as fc.IAsyncProperty<[unknown]>, { numRuns: RUNS });
  });
}

Deno.test("fuzz control API in memory: arbitrary method, path, auth, body → never a 5xx", async () => {
  await fc.assert(inMemoryProperty(), { numRuns: RUNS });
});

Deno.test("fuzz control API over a socket: raw HTTP requests → never a 5xx", async () => {
  const { property, server } = await socketProperty();
  try {
    await fc.assert(property, { numRuns: Math.min(RUNS, 200) });
  } finally {
    await server.close();
  }
});
