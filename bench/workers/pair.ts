/**
 * Worker: pairs of meshmeet peers in this Deno process (parts 1 and 3). Every
 * RTCPeerConnection is traced (see `_pc_trace.ts`).
 *
 * Ops: `round` ({ bootstrap, mode }) -> PairRoundResult with `traces`.
 *
 * @module
 */
import { takeTraces } from "./_pc_trace.ts";
import { generateInvitationCode, joinMeeting } from "../../mod.ts";
import { type MeshmeetApi, pairRound, type PairRoundArgs } from "./_pair_round.ts";
import { serve } from "./_serve.ts";

const api = { joinMeeting, generateInvitationCode } as unknown as MeshmeetApi;

await serve({
  async round(args: PairRoundArgs) {
    const since = performance.timeOrigin + performance.now();
    const result = await pairRound(api, args);
    return { ...result, traces: takeTraces(since) };
  },
});
