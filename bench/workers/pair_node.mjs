// Worker (Node >= 23, type stripping): pairs of meshmeet peers from the npm build.
//   node pair_node.mjs <file URL of the installed package's esm/mod.js>
// Ops: round({ bootstrap, mode }) -> the same result as pair.ts (without traces).
import process from "node:process";
import { pairRound } from "./_pair_round.ts";
import { serve } from "./_serve.mjs";

const api = await import(process.argv[2]);
serve({ round: (args) => pairRound(api, args) });
