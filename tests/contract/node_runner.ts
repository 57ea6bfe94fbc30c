/**
 * The contract suite on Node, with `node:test`. `build_npm.ts` compiles this file into
 * `npm/test/` with `../../mod.ts` rewritten to the package (`meshmeet`), installs the packed
 * tarball into a fresh project and runs it there on Node 22 and 24, so it tests the npm
 * package, not the sources.
 *
 * @module
 */
import { after, test } from "node:test";
import { writeFileSync } from "node:fs";
import process from "node:process";
import * as meshmeet from "../../mod.ts";
import * as mcp from "../../src/mcp/mod.ts";
import { mcpCheck } from "./mcp_check.ts";
import { createLocalRuntime } from "./local_runtime.ts";
import { type ContractMeasurement, runScenario, scenarios, summarize } from "./scenarios.ts";

const runtimeName = `node${process.versions.node.split(".")[0]}`;
const measurements: ContractMeasurement[] = [];

for (const scenario of scenarios) {
  test(`contract (${runtimeName}): ${scenario.name}`, { timeout: 180_000 }, async () => {
    const boot = await meshmeet.startBootstrapNode({
      listen: ["/ip4/127.0.0.1/tcp/0/ws", "/ip4/127.0.0.1/tcp/0"],
    });
    try {
      const runtime = createLocalRuntime(runtimeName, meshmeet, {
        bootstrap: boot.addresses,
        rtcConfiguration: { iceServers: [], bindAddress: "127.0.0.1" },
      });
      await runScenario(scenario, runtime, measurements);
    } finally {
      await boot.stop();
    }
  });
}

test(`contract (${runtimeName}): MCP tools offered and called over meeting links`, {
  timeout: 180_000,
}, async () => {
  const boot = await meshmeet.startBootstrapNode({ listen: ["/ip4/127.0.0.1/tcp/0"] });
  try {
    console.log(`# ${await mcpCheck(meshmeet, mcp, {
      bootstrap: boot.addresses,
      rtcConfiguration: { iceServers: [], bindAddress: "127.0.0.1" },
    })}`);
  } finally {
    await boot.stop();
  }
});

after(() => {
  const summary = summarize(measurements);
  for (const line of summary) console.log(`# ${line}`);
  const report = process.env.MESHMEET_CONTRACT_REPORT;
  if (report) writeFileSync(report, JSON.stringify({ measurements, summary }, null, 2));
  // Everything was left and stopped, so the process should exit by itself. If something
  // still holds the event loop 5 s later, say so (build_npm.ts reports it) and exit.
  setTimeout(() => {
    console.log(
      `# LEAK: still alive 5 s after the last test (active resources: ${
        JSON.stringify(process.getActiveResourcesInfo())
      }); exiting`,
    );
    process.exit(process.exitCode ?? 0);
  }, 5_000).unref();
});
