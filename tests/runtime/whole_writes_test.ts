import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { Uint8ArrayList } from "uint8arraylist";
import type { Transport } from "@libp2p/interface";
import { wholeWrites } from "../../src/runtime/_whole_writes.ts";

// A connection like @libp2p/tcp's and @libp2p/websockets': one socket write per chunk.
function fakeConnection() {
  const writes: Uint8Array[] = [];
  return {
    writes,
    sendData(data: Uint8ArrayList) {
      for (const buf of data) writes.push(buf);
      return { sentBytes: data.byteLength, canSendMore: true };
    },
  };
}

// A transport that hands a new connection to the upgrader, as tcp() and webSockets() do.
function fakeTransport() {
  const conn = fakeConnection();
  const listened = fakeConnection();
  const calls: string[] = [];
  // deno-lint-ignore no-explicit-any
  const transport: any = {
    dial(_ma: unknown, options: { upgrader: { upgradeOutbound(c: unknown): unknown } }) {
      return options.upgrader.upgradeOutbound(conn);
    },
    createListener(options: { upgrader: { upgradeInbound(c: unknown): unknown } }) {
      return { accept: () => options.upgrader.upgradeInbound(listened) };
    },
  };
  // deno-lint-ignore no-explicit-any
  const upgrader: any = {
    name: "upgrader",
    upgradeOutbound(c: unknown) {
      calls.push(`outbound by ${this.name}`);
      return c;
    },
    upgradeInbound(c: unknown) {
      calls.push(`inbound by ${this.name}`);
      return c;
    },
    other() {
      return this.name;
    },
  };
  return { transport: transport as Transport, conn, listened, upgrader, calls };
}

const list = (...chunks: number[][]) => new Uint8ArrayList(...chunks.map((c) => new Uint8Array(c)));

Deno.test("wholeWrites: a dialled connection hands the socket one buffer per send", async () => {
  const t = fakeTransport();
  const transport = wholeWrites(() => t.transport)({});
  // deno-lint-ignore no-explicit-any
  const conn: any = await transport.dial({} as never, { upgrader: t.upgrader } as never);
  // A Noise frame: its 2-byte length, then the ciphertext.
  conn.sendData(list([0, 3], [7, 8, 9]));
  assertEquals(t.conn.writes.map((w) => [...w]), [[0, 3, 7, 8, 9]]);
  assertEquals(t.calls, ["outbound by upgrader"]);
});

Deno.test("wholeWrites: a single chunk is written as it is, without a copy", async () => {
  const t = fakeTransport();
  const transport = wholeWrites(() => t.transport)({});
  // deno-lint-ignore no-explicit-any
  const conn: any = await transport.dial({} as never, { upgrader: t.upgrader } as never);
  const chunk = new Uint8Array([1, 2, 3]);
  conn.sendData(new Uint8ArrayList(chunk));
  assertEquals(t.conn.writes.length, 1);
  assertStrictEquals(t.conn.writes[0], chunk);
});

Deno.test("wholeWrites: connections a listener accepts write whole too; other upgrader methods still work", () => {
  const t = fakeTransport();
  const transport = wholeWrites(() => t.transport)({});
  // deno-lint-ignore no-explicit-any
  const listener: any = transport.createListener({ upgrader: t.upgrader } as never);
  const conn = listener.accept();
  conn.sendData(list([0, 1], [5], [6, 6]));
  assertEquals(t.listened.writes.map((w) => [...w]), [[0, 1, 5, 6, 6]]);
  assertEquals(t.calls, ["inbound by upgrader"]);
  // The upgrader is a view of the same object: its other methods keep their `this`.
  let seen: unknown;
  const probe = wholeWrites(() =>
    ({
      ...t.transport,
      dial: (_ma: unknown, options: { upgrader: { other(): string } }) => {
        seen = options.upgrader.other();
        return Promise.resolve() as never;
      },
    }) as unknown as Transport
  )({});
  probe.dial({} as never, { upgrader: t.upgrader } as never);
  assert(seen === "upgrader", `other() saw ${seen}`);
});
