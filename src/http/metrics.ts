/**
 * The metrics of a meshmeet process in Prometheus text format: counters read from
 * `meeting.stats` at scrape time, histograms fed by meeting events, and DHT/HTTP figures
 * of the control API itself. Per-meeting series carry `topic`, the first 12 hex
 * characters of the public topic id (never the code).
 *
 * @module
 */
import type { KadDHT, SingleKadDHT } from "@libp2p/kad-dht";
import type { BootstrapNode } from "../bootstrap_node.ts";
import type { Meeting, Participant } from "../meeting.ts";
import { encodeMessage } from "../message_codec.ts";
import { Counter, Histogram, type Labels, SampleFamily } from "./prometheus.ts";
import { peerConnectionOf } from "../service/peer_connection.ts";
import { processResources } from "../runtime/resources.ts";

export { peerConnectionOf };

/** Length of the topic id prefix used as the `topic` label. */
export const TOPIC_LABEL_LENGTH = 12;

/**
 * The `topic` label of a meeting.
 *
 * @param topicId The public topic id.
 * @returns Its first {@linkcode TOPIC_LABEL_LENGTH} characters.
 */
export function topicLabel(topicId: string): string {
  return topicId.slice(0, TOPIC_LABEL_LENGTH);
}

interface ByteTotals {
  in: number;
  out: number;
}

interface WireState {
  base: ByteTotals;
  last: Map<RTCPeerConnection, ByteTotals>;
}

/**
 * The mode and routing table size of a node's DHT.
 *
 * @param dht The node's kad-dht service.
 * @returns `client` or `server`, and how many peers its routing table holds.
 */
export function dhtState(dht: KadDHT): { mode: "client" | "server"; routingTableSize: number } {
  return {
    mode: dht.getMode(),
    routingTableSize: (dht as Partial<SingleKadDHT>).routingTable?.size ?? 0,
  };
}

/** Collects the metrics of the meetings and the bootstrap node of a control API. */
export class MeshmeetMetrics {
  readonly #startedAt = Date.now();
  readonly #info: Labels;
  readonly #instrumented = new WeakSet<Meeting>();
  readonly #wire = new WeakMap<Meeting, WireState>();
  readonly #discovery = new Histogram(
    "meshmeet_peer_discovery_seconds",
    "Time from the moment both peers were in the meeting until this node discovered the other " +
      "(through the DHT or a knock).",
  );
  readonly #connect = new Histogram(
    "meshmeet_peer_connect_seconds",
    "Time from discovering a participant until its direct connection passed the handshake.",
  );
  readonly #dhtQuery = new Histogram(
    "meshmeet_dht_query_duration_seconds",
    "Duration of the DHT queries made by the control API (topic lookups), by query and outcome.",
  );
  readonly #joins = new Counter("meshmeet_peer_joins_total", "Participants that joined.");
  readonly #leaves = new Counter(
    "meshmeet_peer_leaves_total",
    "Participants that left, by reason (left, timeout, closed).",
  );
  readonly #stateChanges = new Counter(
    "meshmeet_connection_state_changes_total",
    "Connection state changes of participants, by new state.",
  );
  readonly #connectFailures = new Counter(
    "meshmeet_connection_failures_total",
    "Discovered peers that no rung of the connection ladder (direct, TURN, relay) reached.",
  );
  readonly #bytesIn = new Counter(
    "meshmeet_message_bytes_received_total",
    "Bytes of application messages received (encoded size).",
  );
  readonly #http = new Counter(
    "meshmeet_http_requests_total",
    "Requests to the control API, by method, route and status.",
  );

  /**
   * Create an empty collector.
   *
   * @param info Labels of `meshmeet_info` (e.g. version and runtime).
   */
  constructor(info: Labels) {
    this.#info = info;
  }

  /**
   * Start following a meeting's events (idempotent). Participants already connected are
   * counted once, so nothing is lost when the API starts after the meeting.
   *
   * @param meeting The meeting.
   */
  instrument(meeting: Meeting): void {
    if (this.#instrumented.has(meeting)) return;
    this.#instrumented.add(meeting);
    const topic = topicLabel(meeting.topicId);
    const selfJoinedAt = meeting.self.joinedAt;
    const joined = (p: Participant) => {
      this.#joins.inc({ topic });
      const both = Math.max(selfJoinedAt, p.joinedAt);
      if (p.discoveredAt > 0) {
        this.#discovery.observe({ topic }, Math.max(0, p.discoveredAt - both) / 1000);
        if (p.connectedAt > 0) {
          this.#connect.observe({ topic }, Math.max(0, p.connectedAt - p.discoveredAt) / 1000);
        }
      }
    };
    for (const p of meeting.participants) joined(p);
    meeting.addEventListener("peer:join", (e) => joined(e.detail));
    meeting.addEventListener("peer:leave", (e) => {
      this.#leaves.inc({ topic, reason: e.detail.reason });
    });
    meeting.addEventListener("connection:state", (e) => {
      this.#stateChanges.inc({ topic, state: e.detail.state });
    });
    meeting.addEventListener("connection:failed", () => {
      this.#connectFailures.inc({ topic });
    });
    meeting.addEventListener("message", (e) => {
      try {
        this.#bytesIn.inc({ topic }, encodeMessage(e.detail.data).length);
      } catch {
        // not re-encodable: not counted
      }
    });
  }

  /**
   * Record a DHT query made by the control API.
   *
   * @param query Which query.
   * @param ms Its duration in ms.
   * @param ok Whether it succeeded.
   */
  observeDhtQuery(query: string, ms: number, ok: boolean): void {
    this.#dhtQuery.observe({ query, outcome: ok ? "ok" : "error" }, ms / 1000);
  }

  /**
   * Count a control API request.
   *
   * @param method HTTP method.
   * @param route The route pattern (not the path: ids stay out of the labels).
   * @param status The response status.
   */
  observeHttp(method: string, route: string, status: number): void {
    this.#http.inc({ method, route, status: String(status) });
  }

  /**
   * Render everything in the text exposition format.
   *
   * @param node The bootstrap node, if any, and the meetings.
   * @returns The exposition text.
   */
  async render(node: { bootstrap?: BootstrapNode; meetings: Iterable<Meeting> }): Promise<string> {
    const meetings = [...node.meetings].filter((m) => !m.left);
    for (const m of meetings) this.instrument(m);
    const g = (name: string, help: string) => new SampleFamily(name, "gauge", help);
    const c = (name: string, help: string) => new SampleFamily(name, "counter", help);
    const info = g("meshmeet_info", "Version and runtime of this process.").add(this.#info, 1);
    const uptime = g("meshmeet_uptime_seconds", "Seconds since the control API started.")
      .add({}, Math.round((Date.now() - this.#startedAt) / 100) / 10);
    const meetingsGauge = g("meshmeet_meetings", "Meetings this process is in.")
      .add({}, meetings.length);
    const routing = g(
      "meshmeet_dht_routing_table_size",
      "Peers in the DHT routing table, by node (bootstrap or the topic of a meeting's node).",
    );
    const connections = g(
      "meshmeet_libp2p_connections",
      "Open libp2p connections, by node (bootstrap or meeting).",
    );
    const reservations = g(
      "meshmeet_relay_reservations",
      "Relay reservations this bootstrap node holds for participants.",
    );
    if (node.bootstrap) {
      const dht = dhtState(node.bootstrap.libp2p.services.dht);
      routing.add({ node: "bootstrap", mode: dht.mode }, dht.routingTableSize);
      connections.add({ node: "bootstrap" }, node.bootstrap.libp2p.getConnections().length);
      reservations.add({}, node.bootstrap.libp2p.services.relay.reservations.size);
    }
    const participants = g(
      "meshmeet_participants",
      "Participants by connection state and path (direct, turn, relay).",
    );
    const counters = {
      handshakeFailures: c(
        "meshmeet_handshake_failures_total",
        "Membership handshakes (and knocks) that failed.",
      ),
      dialAttempts: c("meshmeet_dial_attempts_total", "WebRTC dial attempts."),
      dialFailures: c("meshmeet_dial_failures_total", "WebRTC dials that failed."),
      reconnects: c("meshmeet_reconnects_total", "Connections re-established after a drop."),
      messagesSent: c("meshmeet_messages_sent_total", "Messages sent (data frames)."),
      messagesAcked: c("meshmeet_messages_acked_total", "Messages acknowledged by the receiver."),
      messagesReceived: c("meshmeet_messages_received_total", "Messages received."),
      messagesDropped: c(
        "meshmeet_messages_dropped_total",
        "Messages refused by rate or size limits, or malformed.",
      ),
    } as const;
    const lookups = c("meshmeet_dht_lookups_total", "Topic lookups run by meetings.");
    const announcements = c("meshmeet_dht_announcements_total", "Presence announcements made.");
    const records = c(
      "meshmeet_dht_records_total",
      "Presence records fetched, by result (accepted, rejected).",
    );
    const lastLookup = g(
      "meshmeet_dht_last_lookup_seconds",
      "Duration of the latest topic lookup of a meeting.",
    );
    const joinSteps = g(
      "meshmeet_join_step_seconds",
      "Duration of each step of joining a meeting (kdf, bootstrap, reservation, ...).",
    );
    const wireBytes = c(
      "meshmeet_webrtc_bytes_total",
      "Bytes on the direct WebRTC connections of a meeting, by direction (in, out); sampled " +
        "at scrape time.",
    );
    for (const meeting of meetings) {
      const topic = topicLabel(meeting.topicId);
      const stats = meeting.stats;
      for (const [key, family] of Object.entries(counters)) {
        family.add({ topic }, stats[key as keyof typeof counters]);
      }
      lookups.add({ topic }, stats.rendezvous.lookups);
      announcements.add({ topic }, stats.rendezvous.announcements);
      records.add({ topic, result: "accepted" }, stats.rendezvous.recordsAccepted);
      records.add({ topic, result: "rejected" }, stats.rendezvous.recordsRejected);
      lastLookup.add({ topic }, stats.rendezvous.lastLookupMs / 1000);
      for (const [step, ms] of Object.entries(stats.joinTimings)) {
        if (!Number.isFinite(ms)) continue;
        joinSteps.add({ topic, step: step.replace(/Ms$/, "") }, ms / 1000);
      }
      const counts = new Map<string, { state: string; path: string; n: number }>();
      for (const p of meeting.participants) {
        const key = `${p.state}/${p.path ?? "none"}`;
        const entry = counts.get(key) ?? { state: p.state, path: p.path ?? "none", n: 0 };
        entry.n++;
        counts.set(key, entry);
      }
      for (const { state, path, n } of counts.values()) participants.add({ topic, state, path }, n);
      const dht = dhtState(meeting.libp2p.services.dht);
      routing.add({ node: topic, mode: dht.mode }, dht.routingTableSize);
      connections.add({ node: topic }, meeting.libp2p.getConnections().length);
      const wire = await this.#wireBytes(meeting);
      wireBytes.add({ topic, direction: "in" }, wire.in);
      wireBytes.add({ topic, direction: "out" }, wire.out);
    }
    const live = new Set(meetings.map((m) => topicLabel(m.topicId)));
    const gone = (labels: Labels) => labels.topic !== undefined && !live.has(labels.topic);
    for (const h of [this.#discovery, this.#connect]) h.remove(gone);
    for (
      const k of [
        this.#joins,
        this.#leaves,
        this.#stateChanges,
        this.#connectFailures,
        this.#bytesIn,
      ]
    ) k.remove(gone);
    return [
      info,
      uptime,
      meetingsGauge,
      participants,
      this.#discovery,
      this.#connect,
      this.#joins,
      this.#leaves,
      this.#stateChanges,
      this.#connectFailures,
      ...Object.values(counters),
      this.#bytesIn,
      wireBytes,
      joinSteps,
      lookups,
      announcements,
      records,
      lastLookup,
      this.#dhtQuery,
      routing,
      connections,
      reservations,
      ...processFamilies(g),
      this.#http,
    ].map((f) => f.render()).join("");
  }

  async #wireBytes(meeting: Meeting): Promise<ByteTotals> {
    let state = this.#wire.get(meeting);
    if (!state) {
      state = { base: { in: 0, out: 0 }, last: new Map() };
      this.#wire.set(meeting, state);
    }
    // Keyed by the peer connection itself: a reconnect makes a new one with fresh counters.
    const current = new Map<RTCPeerConnection, ByteTotals>();
    await Promise.all(
      meeting.participants.map(async (p) => {
        const pc = peerConnectionOf(meeting, p.peerId);
        if (!pc) return;
        try {
          const report = await pc.getStats();
          let totals: ByteTotals | undefined;
          report.forEach((s: Record<string, unknown>) => {
            if (s.type === "transport" && typeof s.bytesSent === "number") {
              totals = { in: Number(s.bytesReceived ?? 0), out: Number(s.bytesSent) };
            }
          });
          if (totals) current.set(pc, totals);
        } catch {
          // closed meanwhile
        }
      }),
    );
    for (const [id, totals] of state.last) {
      if (!current.has(id)) {
        state.base.in += totals.in;
        state.base.out += totals.out;
      }
    }
    // A connection's counters never go down; keep the higher of old and new.
    for (const [id, totals] of current) {
      const old = state.last.get(id);
      if (old) {
        totals.in = Math.max(totals.in, old.in);
        totals.out = Math.max(totals.out, old.out);
      }
    }
    state.last = current;
    let sumIn = state.base.in;
    let sumOut = state.base.out;
    for (const t of current.values()) {
      sumIn += t.in;
      sumOut += t.out;
    }
    return { in: sumIn, out: sumOut };
  }
}

/**
 * What the process holds (memory; file descriptors and threads on Linux), with Prometheus'
 * conventional names where there are some.
 */
function processFamilies(g: (name: string, help: string) => SampleFamily): SampleFamily[] {
  const r = processResources();
  const families = [
    g("process_resident_memory_bytes", "Resident memory size in bytes.").add({}, r.rssBytes),
    g("meshmeet_heap_used_bytes", "V8 heap in use, garbage not yet collected included.")
      .add({}, r.heapUsedBytes),
    g("meshmeet_heap_total_bytes", "V8 heap committed.").add({}, r.heapTotalBytes),
    g("meshmeet_external_memory_bytes", "Memory outside the V8 heap (array buffers and more).")
      .add({}, r.externalBytes),
  ];
  if (r.openFds !== undefined) {
    families.push(g("process_open_fds", "Number of open file descriptors.").add({}, r.openFds));
  }
  if (r.threads !== undefined) {
    families.push(g("meshmeet_process_threads", "Threads of the process.").add({}, r.threads));
  }
  return families;
}
