/**
 * `meshmeet doctor` as a subprocess against a local coturn (started here on loopback with
 * random ports and stopped at the end) and a local bootstrap node.
 */
import { assert, assertEquals, assertExists, assertMatch, assertStringIncludes } from "@std/assert";
import { env } from "../../src/runtime/process.ts";
import { startLoopbackBootstrap } from "../integration/_harness.ts";
import { runCli } from "./_cli.ts";
import { hasTurnserver, startCoturn } from "./_coturn.ts";

const ignore = !hasTurnserver() && env("CI") !== "true";
if (ignore) console.error("doctor_test: coturn (/usr/bin/turnserver) is not installed; skipped");

Deno.test({
  name:
    "meshmeet doctor finds STUN from the bootstrap node, runs the RFC 5780 tests, gathers candidates",
  ignore,
  async fn() {
    await using coturn = await startCoturn({ rfc5780: true });
    const stun = `stun:127.0.0.1:${coturn.port}`;
    await using boot = await startLoopbackBootstrap({ iceServers: [{ urls: stun }] });
    const address = boot.addresses.find((a) => a.includes("/ws/"))!;
    const r = await runCli(["doctor", "--bootstrap", address, "--json"]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    assertEquals(report.event, "doctor");
    const [b] = report.bootstrap;
    assertEquals([b.reachable, b.dht, b.relay], [true, true, true], JSON.stringify(b));
    assertEquals(b.iceServers, [stun]);
    assert(b.connectMs >= 0);
    const [s] = report.stun;
    assertEquals([s.server, s.reachable, s.rfc5780], [`127.0.0.1:${coturn.port}`, true, true]);
    assertMatch(s.publicAddress, /^127\.0\.0\.1:\d+$/);
    assertEquals(report.nat.otherAddress.address, "127.0.0.2");
    assertEquals(report.nat.mapping, "endpoint-independent");
    assertEquals(report.nat.filtering, "endpoint-independent");
    assertEquals(report.nat.nat, false);
    assertEquals(report.nat.type, "no NAT");
    const types = report.candidates.list.map((c: { type: string }) => c.type);
    assert(types.includes("host"), JSON.stringify(report.candidates));
    assertEquals(report.problems, []);
    assertMatch(report.verdict, /^OK/);
  },
});

Deno.test({
  name: "meshmeet doctor --stun reports the NAT behaviour as unknown without RFC 5780 support",
  ignore,
  async fn() {
    await using coturn = await startCoturn({ rfc5780: false });
    const r = await runCli(["doctor", "--stun", `127.0.0.1:${coturn.port}`]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertStringIncludes(r.stdout, `STUN 127.0.0.1:${coturn.port}: reachable in`);
    assertMatch(r.stdout, /NAT: no NAT \(mapping unknown, filtering unknown/);
    assertStringIncludes(r.stdout, "OTHER-ADDRESS");
    assertMatch(r.stdout, /ICE candidates \(\d+ ms.*\): .*host/);
    assertMatch(r.stdout.trim().split("\n").at(-1)!, /^Verdict: OK/);
    // Progress went to stderr.
    assertStringIncludes(r.stderr, "gathering ICE candidates");
  },
});

Deno.test("meshmeet doctor exits 1 with a verdict when STUN and the bootstrap node are down", async () => {
  // Nothing listens on these (a stopped node's address and a closed UDP port).
  const boot = await startLoopbackBootstrap();
  const address = boot.addresses.find((a) => a.includes("/ws/"))!;
  await boot.stop();
  const socket = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (socket.addr as Deno.NetAddr).port;
  socket.close();
  const r = await runCli([
    "doctor",
    "--stun",
    `127.0.0.1:${closedPort}`,
    "--bootstrap",
    address,
    "--timeout",
    "1000",
    "--json",
  ]);
  assertEquals(r.code, 1, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout);
  assertEquals(report.bootstrap[0].reachable, false);
  assertExists(report.bootstrap[0].error);
  assertEquals(report.stun[0].reachable, false);
  assertMatch(report.verdict, /^NOT OK: none of the 1 bootstrap address/);
  assert(report.problems.some((p: string) => p.startsWith("no STUN server answered")));
});
