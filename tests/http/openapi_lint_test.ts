// The control API's OpenAPI document passes Redocly's recommended rules with no errors
// (REQUIREMENTS X1 / issue 13: servers, declared security on open reads, operationIds).
// Runs the real linter from the npm registry: `npx -y @redocly/cli@2 lint`.
import { assertEquals } from "@std/assert";
import { createControlApi } from "../../src/http/mod.ts";

Deno.test("createControlApi() OpenAPI document passes `redocly lint` (recommended) with no errors", async () => {
  const api = createControlApi({ meetings: new Map() }, { token: "t0ken-for-lint", events: true });
  const doc = await (await api.request("http://127.0.0.1:8787/openapi.json")).text();
  const dir = await Deno.makeTempDir({ prefix: "meshmeet-openapi-" });
  try {
    const file = `${dir}/openapi.json`;
    await Deno.writeTextFile(file, doc);
    const { stdout, stderr } = await new Deno.Command("npx", {
      args: ["-y", "@redocly/cli@2", "lint", file, "--format=json"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_UPDATE_NOTIFIER: "1", REDOCLY_TELEMETRY: "off" },
    }).output();
    const text = new TextDecoder().decode(stdout);
    const report = JSON.parse(text.slice(text.indexOf("{")));
    const errors = report.problems.filter((p: { severity: string }) => p.severity === "error")
      .map((p: { ruleId: string; location: { pointer: string }[] }) =>
        `${p.ruleId} at ${p.location[0]?.pointer}`
      );
    assertEquals(errors, [], new TextDecoder().decode(stderr));
    // What is left are warnings: say which, so a new one is noticed in the log.
    const warnings = report.problems.map((p: { ruleId: string }) => p.ruleId);
    console.log(
      `redocly: 0 errors, ${warnings.length} warnings (${[...new Set(warnings)].join(", ")})`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
