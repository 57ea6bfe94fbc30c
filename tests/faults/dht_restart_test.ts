/**
 * Fault injection: every DHT server restarts with an empty store during a meeting (same
 * identity and addresses, as a restarted `meshmeet serve` with a kept key would come back;
 * the provider and presence records it held are gone).
 *
 * Asserts that the meeting holds on its direct links (a broadcast reaches everyone), and that
 * a newcomer who joins right after the restart still meets every member once they announce
 * again, and measures how long that takes. Prints one `RELIABILITY` JSON line.
 */
import { assert, assertEquals, assertLess } from "@std/assert";
import { generateKeyPair, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import {
  type BootstrapNode,
  generateInvitationCode,
  joinMeeting,
  type Meeting,
  startBootstrapNode,
} from "../../mod.ts";
import { LOOPBACK_RTC, waitUntil } from "../integration/_harness.ts";

/** How long the servers stay down (libp2p redials a lost relay 5 times, 1 s doubling: ~31 s). */
const DOWN_MS = Number(Deno.env.get("MESHMEET_DHT_DOWN_MS") ?? 5000);

const connected = (m: Meeting) => m.participants.filter((p) => p.state === "connected").length;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A DHT server that can be restarted with the same key and ports and an empty store. */
class RestartableServer {
  node: BootstrapNode | undefined;
  readonly listen: string[];
  constructor(readonly key: Uint8Array, readonly peers: () => string[]) {
    this.listen = [
      `/ip4/127.0.0.1/tcp/${freePort()}/ws`,
      `/ip4/127.0.0.1/tcp/${freePort()}`,
    ];
  }
  async start(): Promise<void> {
    this.node = await startBootstrapNode({
      listen: this.listen,
      privateKey: this.key,
      peers: this.peers(),
    });
  }
  async stop(): Promise<void> {
    await this.node?.stop();
    this.node = undefined;
  }
}

/** Both servers down for `downMs`, back empty; returns the figures. */
async function outage(downMs: number): Promise<Record<string, unknown>> {
  const keys = await Promise.all(
    [0, 1].map(async () => privateKeyToProtobuf(await generateKeyPair("Ed25519"))),
  );
  const first = new RestartableServer(keys[0], () => []);
  const second = new RestartableServer(keys[1], () => first.node!.addresses);
  const servers = [first, second];
  const meetings: Meeting[] = [];
  try {
    await first.start();
    await second.start();
    const bootstrap = servers.flatMap((s) => s.node!.addresses);
    const options = { bootstrap, rtcConfiguration: LOOPBACK_RTC, dialTimeoutMs: 15_000 };
    const code = generateInvitationCode();
    for (const name of ["A", "B", "C"]) {
      meetings.push(await joinMeeting(code, { ...options, name }));
    }
    const members = [...meetings];
    await waitUntil(() => members.every((m) => connected(m) === 2), "the members meet", 45_000);
    const before = members.map((m) => m.stats.rendezvous.announcements);

    // Both servers go down and come back empty.
    const r0 = performance.now();
    await Promise.all(servers.map((s) => s.stop()));
    // Down for a while, as a real restart is (members' redials fail meanwhile). The meeting
    // holds on its direct links meanwhile.
    const down = new Promise((r) => setTimeout(r, downMs));
    assert(members.every((m) => connected(m) === 2), "links survive the servers' death");
    const result = await members[0].broadcast("while the servers are down");
    assertEquals(result.failed, []);
    assertEquals(result.delivered.length, 2);
    await down;
    await first.start();
    await second.start();
    const restartMs = performance.now() - r0;
    const restartedAt = performance.now();

    assert(members.every((m) => connected(m) === 2), "links survive the restart");

    // A newcomer right after the restart: the store is empty, so it meets the members once
    // they reconnect to the servers and announce again.
    const n0 = performance.now();
    const newcomer = await joinMeeting(code, { ...options, name: "N" });
    meetings.push(newcomer);
    const joinMs = performance.now() - n0;
    await waitUntil(() => connected(newcomer) === 3, "the newcomer meets all three", 60_000);
    const meetAllMs = performance.now() - n0;
    const sinceRestartMs = performance.now() - restartedAt;
    // Every member announced again after the restart (what the newcomer found).
    const reannouncedMs = await waitUntil(
      () => members.every((m, i) => m.stats.rendezvous.announcements > before[i]),
      "every member announces again",
      30_000,
    );
    const figures = {
      test: "dht_restart",
      servers: 2,
      members: 3,
      restartMs: Math.round(restartMs),
      broadcastWhileDown: result.delivered.length,
      newcomerJoinMs: Math.round(joinMs),
      newcomerMetAllMs: Math.round(meetAllMs),
      metAllSinceServersBackMs: Math.round(sinceRestartMs),
      downMs,
      allReannouncedAfterMeetMs: Math.round(reannouncedMs),
    };
    console.log(`RELIABILITY ${JSON.stringify(figures)}`);
    return figures;
  } finally {
    await Promise.allSettled(meetings.map((m) => m.leave()));
    await Promise.allSettled(servers.map((s) => s.stop()));
  }
}

Deno.test("DHT servers restarted with empty stores: the meeting holds, a newcomer meets everyone after the next announcements", async () => {
  const { newcomerMetAllMs } = await outage(DOWN_MS);
  assertLess(newcomerMetAllMs as number, 45_000);
});

Deno.test("DHT servers down for longer than libp2p redials (40 s): members reconnect when they are back, and a newcomer meets everyone", async () => {
  // libp2p's reconnect queue gives a lost relay five dials (1 s doubling, ~31 s) and stops;
  // meshmeet's BootstrapKeeper keeps dialing (2 s doubling, at most 10 s between).
  const { metAllSinceServersBackMs } = await outage(40_000);
  assertLess(metAllSinceServersBackMs as number, 45_000);
});
