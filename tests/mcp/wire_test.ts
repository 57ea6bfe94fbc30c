import { assertEquals, assertNotEquals } from "@std/assert";
import { MAX_ANNOUNCED_TOOLS, parseEnvelope, schemaDigest } from "../../src/mcp/wire.ts";
import { giveUpReason } from "../../src/mcp/tools.ts";

Deno.test("parseEnvelope() accepts the four envelope kinds", () => {
  const m = { jsonrpc: "2.0" as const, id: 1, method: "tools/list" };
  assertEquals(parseEnvelope({ t: "rpc", s: "abc", d: "c2s", m }), {
    t: "rpc",
    s: "abc",
    d: "c2s",
    m,
  });
  assertEquals(parseEnvelope({ t: "close", s: "abc", d: "s2c" }), {
    t: "close",
    s: "abc",
    d: "s2c",
  });
  assertEquals(parseEnvelope({ t: "query" }), { t: "query" });
  const tool = { name: "x", digest: "0123456789abcdef", params: ["a"], description: "d" };
  assertEquals(parseEnvelope({ t: "offer", seq: 3, tools: [tool] }), {
    t: "offer",
    seq: 3,
    tools: [tool],
  });
});

Deno.test("parseEnvelope() drops what is not an envelope instead of throwing", () => {
  for (
    const junk of [
      null,
      "text",
      42,
      [],
      new Uint8Array([1]),
      { t: "rpc", s: "x", d: "c2s", m: "junk" },
      { t: "rpc", s: "x", d: "c2s", m: { jsonrpc: "1.0" } },
      { t: "rpc", s: "", d: "c2s", m: { jsonrpc: "2.0" } },
      { t: "rpc", s: "x".repeat(65), d: "c2s", m: { jsonrpc: "2.0" } },
      { t: "rpc", s: "x", d: "sideways", m: { jsonrpc: "2.0" } },
      { t: "offer", seq: "1", tools: [] },
      { t: "offer", seq: 1, tools: [{ name: "x" }] },
      { t: "offer", seq: 1, tools: [{ name: "x", digest: "d", params: [1] }] },
      { t: "nope" },
    ]
  ) {
    assertEquals(parseEnvelope(junk), undefined, JSON.stringify(junk));
  }
});

Deno.test("parseEnvelope() bounds what a member may announce", () => {
  const tools = Array.from({ length: MAX_ANNOUNCED_TOOLS + 10 }, (_, i) => ({
    name: `t${i}`.padEnd(500, "x"),
    digest: "d",
    params: [],
    description: "y".repeat(5000),
  }));
  const parsed = parseEnvelope({ t: "offer", seq: 1, tools });
  if (parsed?.t !== "offer") throw new Error("expected an offer");
  assertEquals(parsed.tools.length, MAX_ANNOUNCED_TOOLS);
  assertEquals(parsed.tools[0].name.length, 128);
  assertEquals(parsed.tools[0].description!.length, 280);
});

Deno.test("schemaDigest() ignores key order and tells different schemas apart", async () => {
  const a = {
    inputSchema: { type: "object", properties: { x: { type: "string" }, y: { type: "number" } } },
  };
  const b = {
    inputSchema: { properties: { y: { type: "number" }, x: { type: "string" } }, type: "object" },
  };
  const c = { inputSchema: { type: "object", properties: { x: { type: "number" } } } };
  assertEquals(await schemaDigest(a), await schemaDigest(b));
  assertNotEquals(await schemaDigest(a), await schemaDigest(c));
  assertEquals((await schemaDigest(a)).length, 16);
});

Deno.test("giveUpReason() keeps waiting on a live member and names why it gives up", () => {
  const p = { name: "Ada", state: "connected" as const, lastSeen: 10_000 };
  assertEquals(giveUpReason("A", p, 15_000, 6000), undefined);
  assertEquals(giveUpReason("A", p, 16_000, 6000), undefined);
  assertEquals(
    giveUpReason("A", p, 16_001, 6000)?.message,
    "nothing heard from Ada (A) for 6000 ms",
  );
  assertEquals(
    giveUpReason("A", { ...p, state: "reconnecting" }, 10_000, 6000)?.name,
    "DeliveryError",
  );
  assertEquals(giveUpReason("A", undefined, 10_000, 6000)?.name, "PeerNotFoundError");
});
