/**
 * A NAT mapping change mid-meeting: home a's router starts mapping into another port range
 * (`MASQUERADE --to-ports 20000-20999`) and forgets every mapping it had (`conntrack -F`),
 * as a router that reboots or renumbers does. a1's packets now leave from new external
 * ports; b1's packets to the old ones are dropped as unsolicited. The relay connection to
 * the bootstrap node goes the same way. Needs root; see lab.ts.
 *
 * Asserts that the meeting's link recovers by itself (a message sent after the change is
 * acknowledged within 60 s), that every message sent meanwhile is acknowledged or refused
 * with a named error, that what arrives arrives once and in order with every acknowledged
 * message among it, and that a1's new mappings really are in the new range. Prints one
 * `RELIABILITY` JSON line, with whether the peers left each other's rosters on the way.
 */
import { assert, assertEquals } from "@std/assert";
import { ignoreNatLab } from "./lab.ts";
import { bothJoined, exchange, startScenario, stopScenario } from "./_scenario.ts";

const ignore = ignoreNatLab();

Deno.test({
  name: "a NAT mapping change mid-meeting (new port range, conntrack flushed): the link recovers",
  ignore,
}, async () => {
  const s = await startScenario({
    homes: [{ name: "a", nat: "cone" }, { name: "b", nat: "cone" }],
    turn: true,
    peers: ["a1", "b1"],
  });
  try {
    await bothJoined(s);
    await exchange(s, "before the change");
    const router = s.lab.routers.a;
    const before = (await s.lab.wanMapping("a")).map((m) => m.external.port);
    assert(before.every((p) => p < 20000 || p > 20999), `old mappings ${before}`);

    const changedAt = Date.now();
    const t0 = performance.now();
    // The router maps into a new port range: UDP replaces the first rule, and TCP (the relay
    // connection) keeps the old rule's behaviour on a new port too.
    const remap = async (op: "-R" | "-I", proto: "udp" | "tcp") => {
      const r = await s.lab.exec(router, [
        "iptables",
        "-t",
        "nat",
        op,
        "POSTROUTING",
        "1",
        "-o",
        "wan0",
        "-s",
        router.subnet,
        "-p",
        proto,
        "-j",
        "MASQUERADE",
        "--to-ports",
        "20000-20999",
      ]);
      assertEquals(r.code, 0, r.stderr);
    };
    await remap("-R", "udp");
    await remap("-I", "tcp");
    const flush = await s.lab.exec(router, ["conntrack", "-F"]);
    assertEquals(flush.code, 0, flush.stderr);

    // Send once a second until one message after the change is acknowledged.
    const texts: string[] = [];
    let recoveredMs: number | undefined;
    for (let i = 0; i < 60 && recoveredMs === undefined; i++) {
      const text = `after the change ${i}`;
      texts.push(text);
      await s.peers[0].send(`send ${text}`);
      const deadline = performance.now() + 1000;
      while (performance.now() < deadline) {
        const sent = s.peers[0].events.find((e) =>
          e.event === "sent" && texts.includes(e.text as string) &&
          (e.results as { ok: boolean }[]).some((r) => r.ok)
        );
        if (sent) {
          recoveredMs = performance.now() - t0;
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert(recoveredMs !== undefined, "no message got through within 60 s of the change");
    // Every message sent after the change settles: acknowledged, or refused with a named
    // error when the peer had left the roster meanwhile (see below); none is lost silently.
    const acked: string[] = [];
    const errors: string[] = [];
    for (const text of texts) {
      const sent = await s.peers[0].waitFor(
        (e) => e.event === "sent" && e.text === text,
        `the outcome of ${text}`,
        60_000,
      );
      for (const r of sent.results as { ok: boolean; error?: string }[]) {
        if (r.ok) acked.push(text);
        else {
          const name = r.error?.split(":")[0] ?? "";
          assert(/^(MeetingClosedError|DeliveryError|PeerNotFoundError)$/.test(name), r.error);
          errors.push(name);
        }
      }
    }
    // What arrived: once each, in order, every acknowledged message among them.
    const received = s.peers[1].events.filter((e) => e.event === "message").map((e) => e.text);
    assertEquals(received[0], "before the change");
    assertEquals(new Set(received).size, received.length, "no duplicate");
    for (const text of acked) assert(received.includes(text), `${text} acked, not received`);
    const order = received.slice(1).map((t) => texts.indexOf(t as string));
    assertEquals(order, [...order].sort((x, y) => x - y), "in order");
    const after = await s.lab.wanMapping("a");
    const fresh = after.filter((m) => m.external.port >= 20000 && m.external.port <= 20999);
    assert(fresh.length > 0, `a1 maps into the new range: ${JSON.stringify(after)}`);
    const leaves = s.peers.flatMap((p) =>
      p.events
    ).filter((e) => e.event === "peer:leave" && (e.at as number) >= changedAt).length;
    const joinsAgain = s.peers.flatMap((p) =>
      p.events
    ).filter((e) =>
      e.event === "peer:join" && (e.at as number) >= changedAt
    ).length;
    const states = s.peers[0].events.filter((e) =>
      e.event === "connection:state" && (e.at as number) >= changedAt
    ).map((e) => `${e.state}${e.ice ? `/${e.ice}` : ""}`);
    console.log(
      `RELIABILITY ${
        JSON.stringify({
          test: "nat_rebinding",
          recoveredMs: Math.round(recoveredMs!),
          messagesAfter: texts.length,
          acked: acked.length,
          refused: errors,
          leaves,
          joinsAgain,
          newMappings: fresh.length,
          a1States: states.slice(0, 12),
        })
      }`,
    );
  } catch (err) {
    for (const p of [...s.peers, s.boot]) console.error(`--- ${p.name}\n${p.stderr.slice(-3000)}`);
    throw err;
  } finally {
    await stopScenario(s);
  }
});
