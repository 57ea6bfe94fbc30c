/**
 * Browser side of the trystero comparison (bundled by `deno bundle` into
 * bench/.cache/trystero.js): join a room through the self-hosted tracker, and as the
 * newcomer send one message to the first peer that joins and wait for its reply.
 *
 * @module
 */
import { joinRoom } from "@trystero-p2p/torrent";

interface Round {
  /** From joinRoom() to the reply to our first message (newcomer only). */
  ms?: number;
  /** From joinRoom() to onPeerJoin. */
  peerJoinMs?: number;
}

function join(tracker: string, roomId: string, newcomer: boolean, timeoutMs = 20_000) {
  const t0 = performance.now();
  const room = joinRoom({
    appId: "meshmeet-bench",
    relayConfig: { urls: [tracker] },
    rtcConfig: { iceServers: [] },
  }, roomId);
  const result: Round = {};
  let resolveDone: (r: Round) => void = () => {};
  const done = new Promise<Round>((resolve, reject) => {
    resolveDone = resolve;
    setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
  });
  const action = room.makeAction<string>("m", {
    onMessage: (data, { peerId }) => {
      if (data === "x") void action.send("ack", { target: peerId });
      else if (data === "ack" && newcomer) {
        result.ms = performance.now() - t0;
        resolveDone(result);
      }
    },
  });
  room.onPeerJoin = (peerId) => {
    result.peerJoinMs ??= performance.now() - t0;
    if (newcomer) void action.send("x", { target: peerId });
    else resolveDone(result);
  };
  return { room, done };
}

const rooms: { leave: () => Promise<void> | void }[] = [];

(globalThis as Record<string, unknown>).bench = {
  /** The member that is there first: join, resolve once a peer joined. */
  member(tracker: string, roomId: string) {
    const { room, done } = join(tracker, roomId, false);
    rooms.push(room);
    void done.catch(() => {});
    return true;
  },
  /** The newcomer: join and time the first acknowledged message. */
  async newcomer(tracker: string, roomId: string) {
    const { room, done } = join(tracker, roomId, true);
    rooms.push(room);
    return await done;
  },
  async leave() {
    await Promise.allSettled(rooms.splice(0).map((r) => r.leave()));
  },
};
