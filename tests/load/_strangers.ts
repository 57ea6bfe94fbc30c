/**
 * Strangers in one process for the load tests: `--count` libp2p nodes that each hold a
 * wrong invitation code, connect to the bootstrap node and, all at the same moment, dial a
 * member's relay address on the signaling protocol and run the membership handshake with
 * the wrong keys, `--attempts` times each. Prints one JSON line: outcomes by error name,
 * and how long the whole attack took.
 *
 *     deno run -A tests/load/_strangers.ts --bootstrap <multiaddr> --target <relay address> \
 *       --count 200 --attempts 3
 *
 * @module
 */
import { createLibp2p, type Libp2p } from "libp2p";
import { noise } from "@libp2p/noise";
import { yamux } from "@libp2p/yamux";
import { identify } from "@libp2p/identify";
import { circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { multiaddr } from "@multiformats/multiaddr";
import { serverDialTransports } from "../../src/runtime/transports.ts";
import { deriveTopicKeys } from "../../src/topic.ts";
import { generateInvitationCode, MEETING_PROTOCOL } from "../../mod.ts";
import { FramedStream } from "../../src/framed_stream.ts";
import { handshakeAsDialer } from "../../src/membership.ts";

const argv = Deno.args;
let bootstrap = "";
let target = "";
let count = 200;
let attempts = 3;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--bootstrap") bootstrap = argv[++i];
  else if (argv[i] === "--target") target = argv[++i];
  else if (argv[i] === "--count") count = Number(argv[++i]);
  else if (argv[i] === "--attempts") attempts = Number(argv[++i]);
}
const targetId = target.split("/p2p/").at(-1)!;
const wrongKeys = await deriveTopicKeys(generateInvitationCode());

const nodes: Libp2p[] = [];
for (let i = 0; i < count; i++) {
  nodes.push(
    await createLibp2p({
      transports: [...serverDialTransports(), circuitRelayTransport()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: { denyDialMultiaddr: () => false },
      services: { identify: identify() },
    }),
  );
}
await Promise.all(nodes.map((n) => n.dial(multiaddr(bootstrap))));
console.log(JSON.stringify({ event: "ready", count }));

// Wait for the go (a line on stdin), so that the member can measure a baseline first.
const reader = Deno.stdin.readable.getReader();
await reader.read();

const outcomes: Record<string, number> = {};
const add = (k: string) => outcomes[k] = (outcomes[k] ?? 0) + 1;
const t0 = performance.now();
await Promise.all(nodes.map(async (node) => {
  for (let a = 0; a < attempts; a++) {
    const signal = AbortSignal.timeout(15_000);
    try {
      const stream = await node.dialProtocol(multiaddr(target), MEETING_PROTOCOL, {
        signal,
        runOnLimitedConnection: true,
      });
      const framed = new FramedStream(stream, { maxPayload: 64 * 1024 });
      try {
        await handshakeAsDialer(framed, {
          keys: wrongKeys,
          selfId: node.peerId.toString(),
          remoteId: targetId,
          self: { name: "stranger", joinedAt: Date.now() },
          signal,
        });
        add("accepted"); // must never happen
      } finally {
        framed.abort(new Error("done"));
      }
    } catch (err) {
      add((err as Error)?.name ?? "Error");
    }
  }
}));
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ event: "done", outcomes, seconds }));
await Promise.allSettled(nodes.map((n) => n.stop()));
Deno.exit(0);
