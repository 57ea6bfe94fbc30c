/**
 * Worker: pairs of meshmeet peers in this Deno process (parts 1 and 3). Every
 * RTCPeerConnection is traced (see `_pc_trace.ts`).
 *
 * Ops: `round` ({ bootstrap, mode }) -> PairRoundResult with `traces`; the two-process round's
 * `memberJoin` ({ bootstrap }) -> { code, peerId }, `newcomer` ({ bootstrap, code, peerId }) ->
 * PairRoundResult, `memberLeave` ({ other }) -> A's side.
 *
 * @module
 */
import { takeTraces } from "./_pc_trace.ts";
import { generateInvitationCode, joinMeeting } from "../../mod.ts";
import {
  memberJoin,
  memberLeave,
  type MeshmeetApi,
  newcomerRound,
  pairRound,
  type PairRoundArgs,
} from "./_pair_round.ts";
import { serve } from "./_serve.ts";

const api = { joinMeeting, generateInvitationCode } as unknown as MeshmeetApi;

await serve({
  async round(args: PairRoundArgs) {
    const since = performance.timeOrigin + performance.now();
    const result = await pairRound(api, args);
    return { ...result, traces: takeTraces(since) };
  },
  memberJoin: (args: { bootstrap: string[] }) => memberJoin(api, args),
  newcomer: (args: Parameters<typeof newcomerRound>[1]) => newcomerRound(api, args),
  memberLeave: (args: { other?: string }) => memberLeave(args),
});
