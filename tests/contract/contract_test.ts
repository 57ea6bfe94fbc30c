// The contract suite in Deno, from the sources. The same scenarios run on Node from the npm
// build (node_runner.ts, `deno task test:node`) and in Chromium (`deno task test:browser`).
import * as meshmeet from "../../mod.ts";
import * as mcp from "../../src/mcp/mod.ts";
import { mcpCheck } from "./mcp_check.ts";
import { createLocalRuntime } from "./local_runtime.ts";
import { type ContractMeasurement, runScenario, scenarios, summarize } from "./scenarios.ts";

const measurements: ContractMeasurement[] = [];
const report = Deno.env.get("MESHMEET_CONTRACT_REPORT");

for (const scenario of scenarios) {
  Deno.test(`contract (deno): ${scenario.name}`, async () => {
    const boot = await meshmeet.startBootstrapNode({
      listen: ["/ip4/127.0.0.1/tcp/0/ws", "/ip4/127.0.0.1/tcp/0"],
    });
    try {
      const runtime = createLocalRuntime("deno", meshmeet, {
        bootstrap: boot.addresses,
        rtcConfiguration: { iceServers: [], bindAddress: "127.0.0.1" },
      });
      await runScenario(scenario, runtime, measurements);
    } finally {
      await boot.stop();
    }
    if (report) {
      Deno.writeTextFileSync(
        report,
        JSON.stringify({ measurements, summary: summarize(measurements) }, null, 2),
      );
    }
  });
}

Deno.test("contract (deno): MCP tools offered and called over meeting links", async () => {
  const boot = await meshmeet.startBootstrapNode({ listen: ["/ip4/127.0.0.1/tcp/0"] });
  try {
    console.log(
      await mcpCheck(meshmeet, mcp, {
        bootstrap: boot.addresses,
        rtcConfiguration: { iceServers: [], bindAddress: "127.0.0.1" },
      }),
    );
  } finally {
    await boot.stop();
  }
});
