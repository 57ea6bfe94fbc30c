/**
 * Small pure parts of the CLI: `--http` addresses, candidate lines, the doctor's verdict,
 * the lookup's text.
 */
import { assertEquals, assertMatch, assertStringIncludes, assertThrows } from "@std/assert";
import { UsageError } from "../../src/cli/args.ts";
import { parseCandidate } from "../../src/cli/candidates.ts";
import { judge } from "../../src/cli/doctor.ts";
import { parseHttpAddress } from "../../src/cli/http.ts";
import { formatLookup } from "../../src/cli/lookup.ts";

Deno.test("parseHttpAddress() reads [host:]port and defaults to 127.0.0.1", () => {
  assertEquals(parseHttpAddress("8787"), { hostname: "127.0.0.1", port: 8787 });
  assertEquals(parseHttpAddress("0.0.0.0:80"), { hostname: "0.0.0.0", port: 80 });
  assertEquals(parseHttpAddress("[::1]:9000"), { hostname: "::1", port: 9000 });
  assertEquals(parseHttpAddress("localhost:0"), { hostname: "localhost", port: 0 });
  for (const bad of ["", "x", "1.2.3.4:", ":80", "host:65536", "http://x:1", "::1:80"]) {
    assertThrows(() => parseHttpAddress(bad), UsageError, "is not [host:]port");
  }
});

Deno.test("parseCandidate() reads node-datachannel and browser candidate lines", () => {
  assertEquals(parseCandidate("a=candidate:1 1 UDP 2114977791 192.0.2.2 43415 typ host"), {
    type: "host",
    protocol: "udp",
    address: "192.0.2.2",
    port: 43415,
    candidate: "candidate:1 1 UDP 2114977791 192.0.2.2 43415 typ host",
  });
  const srflx = parseCandidate(
    "candidate:3 1 udp 1678769663 203.0.113.7 50000 typ srflx raddr 0.0.0.0 rport 0",
  );
  assertEquals([srflx?.type, srflx?.address, srflx?.port], ["srflx", "203.0.113.7", 50000]);
  assertEquals(parseCandidate("candidate:garbage"), undefined);
});

const host = { type: "host", protocol: "udp", address: "192.0.2.2", port: 1, candidate: "" };
const srflx = { ...host, type: "srflx" };

Deno.test("judge() says OK when everything answers", () => {
  const report = judge({
    bootstrap: [{ address: "/a", reachable: true, dht: true, relay: true }],
    stun: [{ server: "s:1", reachable: true, publicAddress: "203.0.113.7:5" }],
    candidates: { complete: true, ms: 5, list: [host, srflx] },
  });
  assertEquals([report.problems, report.warnings], [[], []]);
  assertMatch(report.verdict, /^OK: 1\/1 bootstrap address\(es\) reachable; public address 203/);
});

Deno.test("judge() points at the blocking problem first", () => {
  const report = judge({
    bootstrap: [{ address: "/a", reachable: true, dht: true, relay: false }],
    stun: [{ server: "s:1", reachable: false, error: "timeout" }],
    candidates: { complete: true, ms: 5, list: [host] },
  });
  assertEquals(report.problems.length, 2);
  assertMatch(report.verdict, /^NOT OK: no reachable bootstrap node runs a circuit relay/);
  assertStringIncludes(report.problems[1], "no STUN server answered");
});

Deno.test("judge() advises TURN behind a symmetric NAT", () => {
  const report = judge({
    bootstrap: [],
    stun: [{ server: "s:1", reachable: true, publicAddress: "203.0.113.7:5" }],
    nat: {
      server: "s:1",
      mapped: { address: "203.0.113.7", port: 5, family: 4 },
      localPort: 1,
      rttMs: 1,
      nat: true,
      mapping: "address-and-port-dependent",
      filtering: "address-and-port-dependent",
      type: "symmetric",
      notes: [],
    },
    candidates: { complete: true, ms: 5, list: [host, srflx] },
  });
  assertEquals(report.problems, []);
  assertMatch(report.verdict, /^OK with warnings: symmetric NAT: .*TURN/);
});

Deno.test("formatLookup() lists providers and their records", () => {
  const now = 1_000_000;
  const text = formatLookup({
    topicId: "ab".repeat(32),
    cid: "bafkrei",
    via: "12D3KooWVia",
    durationMs: 12.3,
    providers: [
      {
        peerId: "12D3KooWOne",
        addresses: [],
        record: {
          present: true,
          seq: 7,
          issuedAt: now - 1000,
          expiresAt: now + 59_000,
          expired: false,
          bytes: 900,
          valid: true,
        },
      },
      { peerId: "12D3KooWTwo", addresses: [], record: { present: false, error: "not found" } },
    ],
  }, now);
  assertStringIncludes(text, `topic ${"ab".repeat(32)}`);
  assertStringIncludes(
    text,
    "12D3KooWOne  record seq 7, expires in 59 s, 900 bytes, signature valid",
  );
  assertStringIncludes(text, "12D3KooWTwo  no presence record (not found)");
  assertStringIncludes(
    formatLookup({ topicId: "x", cid: "c", via: "v", durationMs: 1, providers: [] }),
    "nobody has announced",
  );
});
