/**
 * The runtime contract suite: scenarios written once against {@linkcode ContractRuntime}
 * and run in Deno (`contract_test.ts`), on Node 22/24 from the npm build (`node_runner.ts`,
 * compiled by `build_npm.ts`) and in Chromium (`tests/browser/`), plus mixed meetings of
 * several runtimes. Nothing here touches a runtime API: peers are driven only through the
 * async {@linkcode ContractPeer} interface, which a runtime implements in-process
 * (`local_runtime.ts`) or across a process/page boundary (`RemoteRuntime`).
 *
 * @module
 */

/** A participant as one peer sees it. */
export interface PeerView {
  /** Peer id. */
  peerId: string;
  /** Display name. */
  name: string;
  /** Link state (`connected`, …). */
  state: string;
  /** Connection path (`direct`, `turn`, `relay`). */
  path: string | undefined;
  /** Local side of the selected candidate pair, `type address:port`. */
  local: string | undefined;
  /** Remote side of the selected candidate pair, `type address:port`. */
  remote: string | undefined;
  /** Time from discovery to a ready connection, as this peer measured it (ms). */
  connectMs: number;
}

/** A message a peer received. */
export interface ReceivedMessage {
  /** Sender's peer id. */
  from: string;
  /** Sender's name. */
  name: string;
  /** Text. */
  text: string;
}

/** A `peer:leave` a peer saw. */
export interface LeaveRecord {
  /** Peer id. */
  peerId: string;
  /** Name. */
  name: string;
  /** Reason (`left`, `timeout`, `closed`). */
  reason: string;
}

/** One participant of a meeting, in whatever runtime it runs. */
export interface ContractPeer {
  /** The runtime it runs in (`deno`, `node22`, `chromium`, …). */
  readonly runtime: string;
  /** Its display name. */
  readonly name: string;
  /** Its peer id. */
  readonly peerId: string;
  /** Its participant list. */
  participants(): Promise<PeerView[]>;
  /** Send text to one participant; resolves with the time to the acknowledgement (ms). */
  send(peerId: string, text: string): Promise<number>;
  /** Messages received so far. */
  messages(): Promise<ReceivedMessage[]>;
  /** `peer:leave` events so far. */
  leaves(): Promise<LeaveRecord[]>;
  /** Failed membership handshakes counted so far. */
  handshakeFailures(): Promise<number>;
  /** Its relay (`/p2p-circuit`) address, where signaling reaches it. */
  relayAddress(): Promise<string>;
  /** `Meeting.connect(address)`: whether it worked, and the error's name if not. */
  connect(address: string): Promise<{ ok: boolean; errorName?: string; message?: string }>;
  /** Peer ids of every libp2p connection it has. */
  libp2pPeers(): Promise<string[]>;
  /** Leave the meeting. Idempotent. */
  leave(): Promise<void>;
}

/** A runtime that can host participants. */
export interface ContractRuntime {
  /** Its name, e.g. `deno`, `node22`, `chromium`. */
  readonly name: string;
  /** A new invitation code (generated in this runtime). */
  generateCode(): Promise<string>;
  /** Join a meeting (the runtime knows the bootstrap nodes). */
  join(code: string, name: string): Promise<ContractPeer>;
}

/** A measurement a scenario reports (connect times for the README's matrix). */
export interface ContractMeasurement {
  /** Scenario. */
  scenario: string;
  /** Runtime of the observing peer. */
  from: string;
  /** Runtime of the observed peer. */
  to: string;
  /** Discovery to connected, as the observer measured it (ms). */
  connectMs: number;
  /** Join start to both peers listing each other as connected (ms). */
  meetMs?: number;
  /** Send to acknowledgement of one message (ms). */
  ackMs?: number;
  /** Selected candidate pair, as the observer sees it. */
  pair?: string;
}

/** What a scenario gets. */
export interface ScenarioContext {
  /** The runtime under test (single-runtime scenarios use only this one). */
  runtime: ContractRuntime;
  /** Record a measurement. */
  measure(m: ContractMeasurement): void;
}

/** One contract scenario. */
export interface Scenario {
  /** Test name: the behaviour, as the test runner shows it. */
  name: string;
  /** Run it; peers joined through `track` are left afterwards even when it fails. */
  run(ctx: ScenarioContext, track: (peer: ContractPeer) => ContractPeer): Promise<void>;
}

/** Generous bounds: the machine has 2 cores and other suites run at the same time. */
export const MEET_TIMEOUT_MS = 45_000;

/** Fail with `message` unless `condition` holds. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`Contract violated: ${message}`);
}

/**
 * Poll `probe` until it returns a value that is not `undefined`, or fail after `timeoutMs`.
 *
 * @returns The value and how long it took.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = MEET_TIMEOUT_MS,
): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  let last: unknown;
  while (true) {
    try {
      const value = await probe();
      if (value !== undefined) return { value, ms: performance.now() - started };
    } catch (err) {
      last = err;
    }
    if (performance.now() - started > timeoutMs) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}` +
          (last ? ` (last error: ${(last as Error).message})` : ""),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Wait until every peer lists exactly the expected others, connected and direct. */
export async function waitForMesh(
  peers: ContractPeer[],
  what = "a full mesh of direct connections",
  timeoutMs = MEET_TIMEOUT_MS,
): Promise<{ views: Map<ContractPeer, PeerView[]>; ms: number }> {
  const { value, ms } = await waitFor(what, async () => {
    const views = new Map<ContractPeer, PeerView[]>();
    for (const peer of peers) {
      const list = await peer.participants();
      const want = peers.filter((p) => p !== peer).map((p) => p.peerId).sort();
      const have = list.filter((v) => v.state === "connected" && v.path === "direct")
        .map((v) => v.peerId).sort();
      if (JSON.stringify(want) !== JSON.stringify(have)) return undefined;
      views.set(peer, list);
    }
    return views;
  }, timeoutMs);
  return { views: value, ms };
}

/** Leave every peer, ignoring errors (cleanup). */
export async function leaveAll(peers: ContractPeer[]): Promise<void> {
  await Promise.allSettled(peers.map((p) => p.leave()));
}

function pairOf(view: PeerView): string {
  return `${view.local ?? "?"} ⇄ ${view.remote ?? "?"}`;
}

/** The single-runtime scenarios, in the order they run. */
export const scenarios: readonly Scenario[] = [
  {
    name: "joinMeeting() by invitation code: two peers see each other, connected directly",
    async run({ runtime, measure }, track) {
      const code = await runtime.generateCode();
      const started = performance.now();
      const [ada, bob] = (await Promise.all([
        runtime.join(code, "Ada"),
        runtime.join(code, "Bob"),
      ])).map(track);
      const { views } = await waitForMesh([ada, bob], "Ada and Bob to see each other");
      const meetMs = performance.now() - started;
      const adaSees = views.get(ada)![0];
      const bobSees = views.get(bob)![0];
      check(adaSees.name === "Bob", `Ada sees "${adaSees.name}", expected "Bob"`);
      check(bobSees.name === "Ada", `Bob sees "${bobSees.name}", expected "Ada"`);
      check(adaSees.peerId === bob.peerId && bobSees.peerId === ada.peerId, "peer ids match");
      for (const [who, view] of [["Ada", adaSees], ["Bob", bobSees]] as const) {
        check(view.local !== undefined, `${who} knows the selected candidate pair`);
        measure({
          scenario: "meet",
          from: runtime.name,
          to: runtime.name,
          connectMs: view.connectMs,
          meetMs,
          pair: pairOf(view),
        });
      }
    },
  },
  {
    name: "Meeting.send() delivers acknowledged messages both ways",
    async run({ runtime, measure }, track) {
      const code = await runtime.generateCode();
      const [ada, bob] = (await Promise.all([
        runtime.join(code, "Ada"),
        runtime.join(code, "Bob"),
      ])).map(track);
      await waitForMesh([ada, bob], "Ada and Bob to meet");
      const ackAda = await ada.send(bob.peerId, "hello Bob, from Ada");
      const ackBob = await bob.send(ada.peerId, "hello Ada, from Bob");
      // An acknowledgement means it was delivered: the other side has it already.
      const toBob = await bob.messages();
      const toAda = await ada.messages();
      check(
        toBob.some((m) => m.text === "hello Bob, from Ada" && m.from === ada.peerId),
        `Bob received Ada's message (got ${JSON.stringify(toBob)})`,
      );
      check(toBob.find((m) => m.from === ada.peerId)?.name === "Ada", "sender name is Ada");
      check(
        toAda.some((m) => m.text === "hello Ada, from Bob" && m.from === bob.peerId),
        `Ada received Bob's message (got ${JSON.stringify(toAda)})`,
      );
      for (let i = 0; i < 5; i++) await ada.send(bob.peerId, `n${i}`);
      const order = (await bob.messages()).map((m) => m.text).filter((t) => /^n\d$/.test(t));
      check(order.join() === "n0,n1,n2,n3,n4", `in order: ${order.join()}`);
      measure({
        scenario: "ack",
        from: runtime.name,
        to: runtime.name,
        connectMs: NaN,
        ackMs: Math.max(ackAda, ackBob),
      });
    },
  },
  {
    name: "joinMeeting() keeps meetings apart: no discovery, connection or traffic across codes",
    async run({ runtime }, track) {
      const [codeA, codeB] = [await runtime.generateCode(), await runtime.generateCode()];
      const [ada, bob, cyd] = (await Promise.all([
        runtime.join(codeA, "Ada"),
        runtime.join(codeA, "Bob"),
        runtime.join(codeB, "Cyd"),
      ])).map(track);
      await waitForMesh([ada, bob], "Ada and Bob to meet");
      await ada.send(bob.peerId, "only for meeting A");
      // Give Cyd time to run its own lookups; it must find nobody.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      check((await cyd.participants()).length === 0, "Cyd (other code) sees no participant");
      check((await cyd.messages()).length === 0, "Cyd received no message");
      for (const p of [ada, bob]) {
        const names = (await p.participants()).map((v) => v.name);
        check(!names.includes("Cyd"), `${p.name} does not list Cyd`);
      }
      const cydPeers = await cyd.libp2pPeers();
      check(
        !cydPeers.includes(ada.peerId) && !cydPeers.includes(bob.peerId),
        "Cyd has no libp2p connection to Ada or Bob",
      );
    },
  },
  {
    name: "Meeting.connect() with the wrong invitation code is rejected by the membership proof",
    async run({ runtime }, track) {
      const code = await runtime.generateCode();
      const [ada, bob] = (await Promise.all([
        runtime.join(code, "Ada"),
        runtime.join(code, "Bob"),
      ])).map(track);
      const mallory = track(await runtime.join(await runtime.generateCode(), "Mallory"));
      await waitForMesh([ada, bob], "Ada and Bob to meet");
      // A WebRTC dial can time out before any handshake (a known first-dial stall, counted
      // by the connect-time figures): try again then, up to three times. What must never
      // happen is a successful connect, or a failure other than the membership proof.
      let result = await mallory.connect(await ada.relayAddress());
      for (
        let i = 1;
        i < 3 && !result.ok && /Timeout|ConnectionFailed/.test(result.errorName ?? "");
        i++
      ) {
        result = await mallory.connect(await ada.relayAddress());
      }
      check(!result.ok, "Mallory's connect() to Ada must fail");
      check(
        result.errorName === "MembershipProofError",
        `expected MembershipProofError, got ${result.errorName}: ${result.message}`,
      );
      await waitFor(
        "Ada to count the failed handshake",
        async () => (await ada.handshakeFailures()) >= 1 ? true : undefined,
        15_000,
      );
      check((await mallory.participants()).length === 0, "Mallory sees no participant");
      const names = (await ada.participants()).map((v) => v.name);
      check(names.join() === "Bob", `Ada still lists only Bob (got ${names.join()})`);
      await ada.send(bob.peerId, "still fine");
    },
  },
  {
    name: "Meeting.leave() is seen by the others at once, with reason 'left'",
    async run({ runtime }, track) {
      const code = await runtime.generateCode();
      const [ada, bob, cyd] = (await Promise.all([
        runtime.join(code, "Ada"),
        runtime.join(code, "Bob"),
        runtime.join(code, "Cyd"),
      ])).map(track);
      await waitForMesh([ada, bob, cyd], "a mesh of three");
      const started = performance.now();
      await cyd.leave();
      await waitFor("Ada and Bob to see Cyd leave", async () => {
        for (const p of [ada, bob]) {
          const leaves = await p.leaves();
          const cydLeft = leaves.find((l) => l.peerId === cyd.peerId);
          if (!cydLeft) return undefined;
          check(cydLeft.reason === "left", `reason is "${cydLeft.reason}", expected "left"`);
          check(cydLeft.name === "Cyd", "the leave names Cyd");
        }
        return true;
      }, 10_000);
      const elapsed = performance.now() - started;
      check(elapsed < 5000, `the leave took ${Math.round(elapsed)} ms to be seen (bound 5 s)`);
      for (const p of [ada, bob]) {
        const names = (await p.participants()).map((v) => v.name).sort();
        check(!names.includes("Cyd"), `${p.name} no longer lists Cyd`);
        check(names.length === 1, `${p.name} lists one participant (got ${names.join()})`);
      }
    },
  },
];

/** Result of {@linkcode mixedMeeting}. */
export interface MixedMeetingResult {
  /** Measurements for every ordered pair of peers. */
  measurements: ContractMeasurement[];
  /** Time from the first join to the full mesh (ms). */
  meshMs: number;
  /** Time from the last join to the full mesh (ms). */
  afterLastJoinMs: number;
}

/**
 * One meeting with peers from several runtimes: every pair must connect directly and
 * every peer's broadcast must be acknowledged by all others.
 *
 * @param members Which runtime each member runs in (names are derived from it).
 * @returns Per-pair connect and acknowledgement times.
 */
export async function mixedMeeting(
  members: ContractRuntime[],
): Promise<MixedMeetingResult> {
  const code = await members[0].generateCode();
  const peers: ContractPeer[] = [];
  const started = performance.now();
  try {
    // One after the other, as people arrive (simultaneous joins are covered by the
    // single-runtime scenarios): each newcomer finds everyone with its first lookup.
    const counts = new Map<string, number>();
    for (const runtime of members) {
      const n = (counts.get(runtime.name) ?? 0) + 1;
      counts.set(runtime.name, n);
      peers.push(await runtime.join(code, `${runtime.name}#${n}`));
    }
    const joined = [...peers];
    const lastJoin = performance.now();
    const { views } = await waitForMesh(
      joined,
      `a full mesh of ${joined.length} (${members.map((m) => m.name).join(", ")})`,
      120_000,
    );
    const meshMs = performance.now() - started;
    const afterLastJoinMs = performance.now() - lastJoin;
    const measurements: ContractMeasurement[] = [];
    for (const sender of joined) {
      for (const receiver of joined) {
        if (sender === receiver) continue;
        const ackMs = await sender.send(receiver.peerId, `from ${sender.name} to ${receiver.name}`);
        const view = views.get(sender)!.find((v) => v.peerId === receiver.peerId)!;
        measurements.push({
          scenario: "mixed",
          from: sender.runtime,
          to: receiver.runtime,
          connectMs: view.connectMs,
          ackMs,
          pair: pairOf(view),
        });
      }
    }
    for (const receiver of joined) {
      const got = (await receiver.messages()).map((m) => m.text);
      for (const sender of joined) {
        if (sender === receiver) continue;
        const text = `from ${sender.name} to ${receiver.name}`;
        check(got.includes(text), `${receiver.name} received "${text}"`);
      }
    }
    return { measurements, meshMs, afterLastJoinMs };
  } finally {
    await leaveAll(peers);
  }
}

/**
 * Run one scenario against a runtime, leaving every peer it joined afterwards.
 *
 * @param scenario The scenario.
 * @param runtime The runtime under test.
 * @param measurements Where measurements go.
 */
export async function runScenario(
  scenario: Scenario,
  runtime: ContractRuntime,
  measurements: ContractMeasurement[] = [],
): Promise<void> {
  const peers: ContractPeer[] = [];
  try {
    await scenario.run(
      { runtime, measure: (m) => measurements.push(m) },
      (peer) => {
        peers.push(peer);
        return peer;
      },
    );
  } finally {
    await leaveAll(peers);
  }
}

/**
 * Summarize measurements as `from → to: connect p50/max, ack p50` lines.
 *
 * @param measurements What the scenarios recorded.
 * @returns One line per runtime pair.
 */
export function summarize(measurements: ContractMeasurement[]): string[] {
  const groups = new Map<string, ContractMeasurement[]>();
  for (const m of measurements) {
    const key = `${m.from} → ${m.to}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const median = (xs: number[]) => {
    const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    return s.length ? Math.round(s[Math.floor((s.length - 1) / 2)]) : NaN;
  };
  return [...groups.entries()].map(([key, ms]) => {
    const connect = ms.map((m) => m.connectMs).filter(Number.isFinite);
    const acks = ms.map((m) => m.ackMs ?? NaN).filter(Number.isFinite);
    return `${key}: connect p50 ${median(connect)} ms (max ${
      connect.length ? Math.round(Math.max(...connect)) : NaN
    }, n=${connect.length}), ack p50 ${median(acks)} ms`;
  });
}
