/**
 * The simulator's engine (bench/sim/network.ts) with a fake node: latency, order, loss as
 * delay, connects, disconnects, crash leases, determinism. The real overlay runs in it in
 * `sim_test.ts`.
 */
import { assert, assertEquals } from "@std/assert";
import { estimateBytes } from "../../bench/sim/bytes.ts";
import { EventQueue } from "../../bench/sim/heap.ts";
import {
  type Member,
  Network,
  NETWORK_DEFAULTS,
  type NetworkOptions,
} from "../../bench/sim/network.ts";
import { pairLatency, sample, seededRandom } from "../../bench/sim/random.ts";
import { runScenario } from "../../bench/sim/scenario.ts";
import { FakeNode } from "./_sim_fake_node.ts";

function network(over: Partial<NetworkOptions> = {}): Network {
  return new Network((init) => new FakeNode(init), {
    ...NETWORK_DEFAULTS,
    messageBytes: estimateBytes,
    ...over,
  });
}
const fake = (m: Member) => m.node as FakeNode;

/** Spawn two members without entry points and link them. */
function pair(net: Network): [Member, Member] {
  const a = net.spawn([]);
  const b = net.spawn([]);
  fake(a).degree = fake(b).degree = 0; // no links of their own accord
  fake(a).push({ type: "connect", peer: b.peerId, contact: [] });
  net.at(net.now, () => fake(a).push({ type: "connect", peer: b.peerId, contact: [] }));
  net.broadcast(a, 0, new Uint8Array(0)); // any call drains a's actions
  net.run(net.now + 2_000);
  return [a, b];
}

Deno.test("EventQueue pops by time, then in insertion order", () => {
  const q = new EventQueue<{ at: number; seq: number; v: number }>();
  const rnd = seededRandom(3);
  for (let v = 0; v < 500; v++) q.push({ at: Math.floor(rnd() * 50), seq: 0, v });
  let last = { at: -1, seq: -1 };
  while (q.size > 0) {
    const e = q.pop()!;
    assert(e.at > last.at || (e.at === last.at && e.seq > last.seq));
    last = e;
  }
});

Deno.test("pairLatency() is symmetric and within its range; sample() picks distinct items", () => {
  for (let i = 0; i < 200; i++) {
    const l = pairLatency(1, i, i + 7, 20, 150);
    assertEquals(l, pairLatency(1, i + 7, i, 20, 150));
    assert(l >= 20 && l <= 150);
  }
  const picked = sample([...Array(100).keys()], 10, seededRandom(1));
  assertEquals(new Set(picked).size, 10);
});

Deno.test("Network: connect brings the link up on both sides after two round trips", () => {
  const net = network({ loss: 0 });
  const [a, b] = pair(net);
  const upA = fake(a).log.ups[0];
  const upB = fake(b).log.ups[0];
  assertEquals([upA.peer, upA.inbound, upB.peer, upB.inbound], [b.peerId, false, a.peerId, true]);
  const oneWay = pairLatency(NETWORK_DEFAULTS.seed, a.slot, b.slot, 20, 150);
  assert(Math.abs(upA.now - NETWORK_DEFAULTS.epochMs - 4 * oneWay) < 0.01);
  assertEquals(upA.rttMs, Math.round(2 * oneWay));
  assertEquals(net.counters.connectsRedundant, 1, "a second connect to the same peer is a no-op");
});

Deno.test("Network: messages arrive after the one-way latency, in order; loss only delays them", () => {
  for (const loss of [0, 0.2]) {
    const net = network({ loss, uplinkMbps: 0 });
    const [a, b] = pair(net);
    const oneWay = pairLatency(NETWORK_DEFAULTS.seed, a.slot, b.slot, 20, 150);
    const t0 = net.now;
    for (let i = 0; i < 200; i++) {
      fake(a).push({ type: "send", to: b.peerId, msg: { t: "ihave", ids: [String(i)] } });
    }
    net.broadcast(a, 0, new Uint8Array(0));
    net.run(net.now + 60_000);
    const got = fake(b).log.received.filter((r) => r.msg.t === "ihave");
    assertEquals(
      got.map((r) => (r.msg as { ids: string[] }).ids[0]),
      [...Array(200).keys()].map(String),
    );
    const delays = got.map((r) => r.now - NETWORK_DEFAULTS.epochMs - t0);
    // (Absolute times near 1.8e12 ms keep ~0.0002 ms of precision.)
    assert(delays.every((d) => d >= oneWay - 0.01));
    if (loss === 0) assert(delays.every((d) => Math.abs(d - oneWay) < 0.01));
    else {
      assert(net.counters.retransmitted > 10, `retransmitted ${net.counters.retransmitted}`);
      assert(Math.max(...delays) >= oneWay + 200, "a loss costs at least one RTO");
    }
  }
});

Deno.test("Network: a crash fails the neighbours' links after a lease; a connect to it fails", () => {
  const net = network({ loss: 0 });
  const [a, b] = pair(net);
  const t0 = net.now;
  net.crash(b);
  fake(a).push({ type: "send", to: b.peerId, msg: { t: "lazy" } });
  net.broadcast(a, 0, new Uint8Array(0));
  net.run(t0 + 20_000);
  const down = fake(a).log.downs[0];
  assertEquals([down.peer, down.failed], [b.peerId, true]);
  const lease = down.now - NETWORK_DEFAULTS.epochMs - t0;
  assert(lease >= 6_000 && lease <= 14_000, `lease ${lease}`);
  assertEquals(fake(b).log.received.filter((r) => r.msg.t === "lazy").length, 0);
  fake(a).push({ type: "connect", peer: b.peerId, contact: [] });
  const t1 = net.now;
  net.broadcast(a, 0, new Uint8Array(0));
  net.run(t1 + 10_000);
  assertEquals(
    fake(a).log.failedConnects.map((f) => [f.peer, f.now - NETWORK_DEFAULTS.epochMs - t1]),
    [[b.peerId, 5_000]],
  );
});

Deno.test("Network: disconnect delivers what was sent, then both sides see a clean close", () => {
  const net = network({ loss: 0 });
  const [a, b] = pair(net);
  fake(a).push({ type: "send", to: b.peerId, msg: { t: "lazy" } });
  fake(a).push({ type: "disconnect", peer: b.peerId });
  net.broadcast(a, 0, new Uint8Array(0));
  net.run(net.now + 5_000);
  assertEquals(fake(b).log.received.filter((r) => r.msg.t === "lazy").length, 1);
  assertEquals(fake(a).log.downs.map((d) => d.failed), [false]);
  assertEquals(fake(b).log.downs.map((d) => d.failed), [false]);
  assert(fake(b).log.downs[0].now >= fake(b).log.received.at(-1)!.now);
  assertEquals(a.links.size + b.links.size, 0);
});

Deno.test("runScenario() with the fake node: deterministic for a seed, and its metrics add up", () => {
  const run = (seed: number) =>
    runScenario((init) => new FakeNode(init), {
      members: 150,
      seed,
      settleMs: 5_000,
      quietMs: 5_000,
      churnMs: 30_000,
      drainMs: 20_000,
      churnPerMinute: 0.1,
    }, estimateBytes);
  const x = run(7);
  const y = run(7);
  const z = run(8);
  assertEquals(x.counters, y.counters);
  assertEquals(x.metrics.broadcasts, y.metrics.broadcasts);
  assert(JSON.stringify(x.counters) !== JSON.stringify(z.counters), "another seed, another run");
  // The fake floods to every neighbour: every broadcast reaches every settled member once.
  for (const b of x.metrics.broadcasts) {
    assertEquals(b.fullyCovered, b.events);
    assertEquals(b.duplicates, 0);
  }
  assertEquals(
    x.population.spawned,
    150 + x.metrics.gone.crash.events + x.metrics.gone.leave.events,
  );
  assertEquals(x.roster.complete, x.roster.checked);
  assertEquals(x.metrics.newcomers.wave.events, 149, "every member but the first is tracked");
  assert(x.metrics.graph.every((g) => g.components === 1));
});

Deno.test("runScenario() warm start: members created with the roster link up through the protocol", () => {
  const r = runScenario((init) => new FakeNode(init), {
    members: 120,
    warmMembers: 100,
    warmSettleMs: 10_000,
    settleMs: 5_000,
    quietMs: 5_000,
    churnMs: 0,
    drainMs: 0,
  }, estimateBytes);
  assertEquals(r.population.spawned, 120);
  assertEquals(r.metrics.newcomers.wave.events, 20, "only the members that joined are tracked");
  assertEquals(r.roster.complete, r.roster.checked);
  assertEquals(r.counters.sentWithoutLink, 0, "sends to the stand-in peer are not counted");
  assert(r.metrics.graph.length > 0 && r.metrics.graph.every((g) => g.components === 1));
  assert(r.wallSeconds.warm !== undefined);
});
