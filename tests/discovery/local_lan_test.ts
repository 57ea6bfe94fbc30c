/**
 * Local discovery on a real LAN: hosts in network namespaces on one bridge (the NAT lab's
 * home LAN), real multicast DNS, no bootstrap node, each participant its own process.
 */
import { assert, assertEquals } from "@std/assert";
import { createNatLab, ignoreNatLab } from "../natlab/lab.ts";
import {
  bothJoined,
  exchange,
  type LabEvent,
  LabProcess,
  startScenario,
  stopScenario,
} from "../natlab/_scenario.ts";
import { deriveTopicKeys, generateInvitationCode, normalizeInvitationCode } from "../../mod.ts";
import { toHex } from "../../src/topic.ts";

const ignore = ignoreNatLab();

function joins(p: LabProcess): LabEvent[] {
  return p.events.filter((e) => e.event === "peer:join");
}

async function waitJoins(p: LabProcess, n: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (joins(p).length < n) {
    if (Date.now() > deadline) {
      throw new Error(
        `${p.name}: ${joins(p).length}/${n} peer:join after ${timeoutMs} ms\n${
          p.stderr.slice(-3000)
        }`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function includesBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test({
  name: "three hosts on one LAN meet with the code alone; a host with another code learns nothing",
  ignore,
}, async () => {
  await using lab = await createNatLab({
    homes: [{ name: "a", nat: "cone", hosts: 4 }],
    turn: false,
  });
  const code = generateInvitationCode();
  const otherCode = generateInvitationCode();
  const pcap = `${lab.dir}/outsider.pcap`;
  // What the outsider's interface sees: every multicast packet and its own unicast.
  const capture = lab.spawn(lab.hosts.a4, [
    "tcpdump",
    "-i",
    "eth0",
    "-s",
    "0",
    "-U",
    "-w",
    pcap,
  ], { stdout: "null", stderr: "piped" });
  const captureErr = capture.stderr.pipeThrough(new TextDecoderStream()).getReader();
  // "tcpdump: listening on eth0 …" may arrive in more than one chunk.
  let started = "";
  while (!started.includes("listening")) {
    const { value, done } = await captureErr.read();
    if (done) break;
    started += value;
  }
  assert(started.includes("listening"), started);
  const names = ["Ada-Lovelace-a1", "Bob-Barker-a2", "Cyd-Charisse-a3"];
  const members = ["a1", "a2", "a3"].map((h, i) =>
    new LabProcess(lab, lab.hosts[h], h, "_peer.ts", {
      CONFIG: JSON.stringify({
        code,
        name: names[i],
        bootstrap: [],
        bindAddress: lab.hosts[h].ip,
      }),
    }, true)
  );
  const outsider = new LabProcess(lab, lab.hosts.a4, "a4", "_peer.ts", {
    CONFIG: JSON.stringify({
      code: otherCode,
      name: "Eve-Outsider-a4",
      bootstrap: [],
      bindAddress: lab.hosts.a4.ip,
    }),
  }, true);
  const all = [...members, outsider];
  try {
    for (const p of members) await waitJoins(p, 2);
    for (const p of members) {
      const peers = joins(p);
      assertEquals(peers.map((e) => e.path), ["direct", "direct"]);
      assertEquals(new Set(peers.map((e) => e.name)).size, 2);
      assert(!peers.some((e) => e.name === "Eve-Outsider-a4"));
    }
    // Messages flow over the LAN links.
    await members[0].send("send hello LAN");
    for (const p of members.slice(1)) {
      await p.waitFor((e) => e.event === "message" && e.text === "hello LAN", "the message");
    }
    // Give the outsider time to have seen everyone on mDNS and tried.
    await new Promise((r) => setTimeout(r, 3000));
    assertEquals(joins(outsider), []);
    assertEquals(outsider.events.filter((e) => e.event === "message"), []);
  } finally {
    await Promise.allSettled(all.map((p) => p.stop()));
    try {
      capture.kill("SIGTERM");
    } catch { /* gone */ }
    await capture.status;
    await captureErr.cancel().catch(() => {});
  }
  const bytes = await Deno.readFile(pcap);
  const text = new TextDecoder("latin1").decode(bytes);
  // The capture did see the members' mDNS answers (peer ids in TXT records)…
  const memberId = members[0].events.find((e) => e.event === "joined")!.peerId as string;
  assert(text.includes(`_meshmeet`), "the capture holds no mDNS traffic");
  assert(text.includes(memberId), "the capture holds no mDNS answer of a1");
  // …but no code, topic id or name, in any form.
  const keys = await deriveTopicKeys(code);
  for (const secret of [code, normalizeInvitationCode(code), keys.topicId, ...names]) {
    assert(!text.includes(secret), `the LAN capture contains ${JSON.stringify(secret)}`);
  }
  assert(!includesBytes(bytes, keys.topicIdBytes), "the LAN capture contains the topic id bytes");
  assert(!text.includes(toHex(keys.topicIdBytes).toUpperCase()));
});

Deno.test({
  name: "the NAT lab's LAN scenario with a bootstrap node too: one link per pair, LAN and DHT both",
  ignore,
}, async () => {
  const s = await startScenario({
    homes: [{ name: "a", nat: "cone", hosts: 2 }],
    turn: false,
    peers: ["a1", "a2"],
  });
  try {
    const [a, b] = await bothJoined(s);
    assertEquals([a.path, b.path], ["direct", "direct"]);
    await exchange(s, "over the LAN");
    // Both discovery paths ran; still exactly one participant and one join each.
    await new Promise((r) => setTimeout(r, 3000));
    for (const p of s.peers) {
      assertEquals(joins(p).length, 1, `${p.name} joined its peer twice`);
      assertEquals(p.events.filter((e) => e.event === "peer:leave"), []);
      assertEquals(p.events.filter((e) => e.event === "connection:failed"), []);
    }
  } finally {
    await stopScenario(s);
  }
});
