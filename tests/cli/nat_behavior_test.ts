/**
 * The RFC 5780 logic of `meshmeet doctor` against simulated NATs: a fake STUN binder that
 * behaves as a server with two addresses behind a NAT of each kind would.
 */
import { assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import {
  type NatBehavior,
  natType,
  probeNatBehavior,
  type StunBinder,
} from "../../src/cli/nat_behavior.ts";
import type { StunAddress } from "../../src/stun.ts";

const PRIMARY = { host: "198.51.100.1", port: 3478 };
const OTHER: StunAddress = { address: "198.51.100.2", port: 3479, family: 4 };
const LOCAL_IP = "192.168.1.10";

/** A NAT in front of us and a STUN server with two addresses. */
function simulate(
  mapping: NatBehavior,
  filtering: NatBehavior,
  options: { rfc5780?: boolean; nat?: boolean } = {},
) {
  const mappings = new Map<string, number>();
  let nextPort = 40000;
  const calls: string[] = [];
  const binder: StunBinder = (server, o) => {
    const localPort = o.localPort ?? 5000;
    calls.push(
      `${server.host}:${server.port}${o.change ? ` change ${JSON.stringify(o.change)}` : ""}`,
    );
    if (options.nat === false) {
      return Promise.resolve({
        mapped: { address: LOCAL_IP, port: localPort, family: 4 },
        ...(options.rfc5780 === false ? {} : { other: OTHER }),
        localPort,
        rttMs: 1,
      });
    }
    const key = mapping === "endpoint-independent"
      ? `${localPort}`
      : mapping === "address-dependent"
      ? `${localPort}>${server.host}`
      : `${localPort}>${server.host}:${server.port}`;
    if (!mappings.has(key)) mappings.set(key, nextPort++);
    const mapped = { address: "203.0.113.7", port: mappings.get(key)!, family: 4 as const };
    // Filtering: would the answer from the changed address get through?
    if (o.change) {
      const blocked = (filtering === "address-dependent" && o.change.ip) ||
        (filtering === "address-and-port-dependent" && (o.change.ip || o.change.port));
      if (blocked) {
        return Promise.reject(new Error(`STUN server did not answer within ${o.timeoutMs} ms`));
      }
    }
    return Promise.resolve({
      mapped,
      ...(options.rfc5780 === false ? {} : { other: OTHER }),
      localPort,
      rttMs: 1,
    });
  };
  return { binder, calls };
}

const cases: Array<[NatBehavior, NatBehavior, string]> = [
  ["endpoint-independent", "endpoint-independent", "full cone"],
  ["endpoint-independent", "address-dependent", "restricted cone"],
  ["endpoint-independent", "address-and-port-dependent", "port-restricted cone"],
  ["address-dependent", "address-and-port-dependent", "symmetric"],
  ["address-and-port-dependent", "address-and-port-dependent", "symmetric"],
];

for (const [mapping, filtering, type] of cases) {
  Deno.test(`probeNatBehavior() tells a ${type} NAT (mapping ${mapping}, filtering ${filtering})`, async () => {
    const { binder } = simulate(mapping, filtering);
    const report = await probeNatBehavior(PRIMARY, binder, {
      hostAddresses: [LOCAL_IP],
      timeoutMs: 10,
    });
    assertEquals([report.mapping, report.filtering, report.type], [mapping, filtering, type]);
    assertEquals(report.nat, true);
    assertEquals(report.otherAddress, OTHER);
    assertEquals(report.notes, []);
  });
}

Deno.test("probeNatBehavior() sends every test from the first test's local port", async () => {
  const { binder, calls } = simulate("address-and-port-dependent", "address-and-port-dependent");
  const seen: (number | undefined)[] = [];
  await probeNatBehavior(PRIMARY, (s, o) => {
    seen.push(o.localPort);
    return binder(s, o);
  }, { timeoutMs: 10 });
  assertEquals(seen[0], undefined);
  assertEquals(new Set(seen.slice(1)), new Set([5000]));
  assertEquals(calls, [
    "198.51.100.1:3478",
    "198.51.100.2:3478",
    "198.51.100.2:3479",
    '198.51.100.1:3478 change {"ip":true,"port":true}',
    '198.51.100.1:3478 change {"port":true}',
  ]);
});

Deno.test("probeNatBehavior() sees no NAT when the mapped address is this host's", async () => {
  const { binder } = simulate("endpoint-independent", "endpoint-independent", { nat: false });
  const report = await probeNatBehavior(PRIMARY, binder, { hostAddresses: [LOCAL_IP] });
  assertEquals([report.nat, report.type], [false, "no NAT"]);
});

Deno.test("probeNatBehavior() reports unknown behaviour without OTHER-ADDRESS", async () => {
  const { binder, calls } = simulate("endpoint-independent", "endpoint-independent", {
    rfc5780: false,
  });
  const report = await probeNatBehavior(PRIMARY, binder, { hostAddresses: [LOCAL_IP] });
  assertEquals([report.mapping, report.filtering, report.type], ["unknown", "unknown", "unknown"]);
  assertStringIncludes(report.notes[0], "OTHER-ADDRESS");
  assertEquals(calls.length, 1, "no further tests without a second address");
});

Deno.test("probeNatBehavior() does not trust a server that ignores CHANGE-REQUEST", async () => {
  const { binder } = simulate("endpoint-independent", "endpoint-independent");
  const report = await probeNatBehavior(PRIMARY, async (s, o) => ({
    ...(await binder(s, o)),
    origin: { address: PRIMARY.host, port: PRIMARY.port, family: 4 },
  }), { timeoutMs: 10 });
  assertEquals(report.filtering, "unknown");
  assertStringIncludes(report.notes.join(" "), "ignores it");
});

Deno.test("probeNatBehavior() rejects when the server does not answer at all", async () => {
  await assertRejects(
    () => probeNatBehavior(PRIMARY, () => Promise.reject(new Error("did not answer"))),
    Error,
    "did not answer",
  );
});

Deno.test("natType() names firewalled hosts without NAT", () => {
  assertEquals(
    natType(false, "endpoint-independent", "address-and-port-dependent"),
    "no NAT, firewalled",
  );
  assertEquals(natType(false, "unknown", "unknown"), "no NAT");
  assertEquals(natType("unknown", "endpoint-independent", "unknown"), "unknown");
});
