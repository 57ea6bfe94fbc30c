// Worker (Node >= 23, type stripping): pairs of meshmeet peers from the npm build.
//   node pair_node.mjs <file URL of the installed package's esm/mod.js>
// Ops: as pair.ts (round, memberJoin, newcomer, memberLeave), round without traces.
import process from "node:process";
import { memberJoin, memberLeave, newcomerRound, pairRound } from "./_pair_round.ts";
import { serve } from "./_serve.mjs";

const api = await import(process.argv[2]);
serve({
  round: (args) => pairRound(api, args),
  memberJoin: (args) => memberJoin(api, args),
  newcomer: (args) => newcomerRound(api, args),
  memberLeave: (args) => memberLeave(args),
});
