/**
 * Part 7 of `deno task bench`: one simulated meeting of the real overlay, in this process
 * (1,000 members need about 0.5 GB of heap; the larger runs go through `deno task sim`).
 *
 * @module
 */
import { estimateMessageBytes } from "../../src/overlay/codec.ts";
import { progress } from "../_util.ts";
import { overlayFactory } from "./overlay_factory.ts";
import type { SimDoc } from "./report.ts";
import { runScenario, type ScenarioOptions } from "./scenario.ts";

/**
 * Run the simulator part.
 * @param options Scenario options (members, phase lengths…).
 * @param command The bench command line (recorded in the result).
 * @returns The run.
 */
export function runSim(options: Partial<ScenarioOptions>, command: string): Promise<SimDoc> {
  const startedAt = new Date().toISOString();
  const result = runScenario(
    overlayFactory(),
    { ...options, log: (line) => progress("7 sim", line) },
    estimateMessageBytes,
  );
  return Promise.resolve({ command, startedAt, ...result });
}
