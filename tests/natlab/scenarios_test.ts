/**
 * meshmeet behind real NATs: each scenario builds a lab of network namespaces (coturn
 * for STUN/TURN and a bootstrap node on the "internet", homes behind iptables NATs),
 * starts two participants as separate processes, and checks the path they end up on and
 * that acknowledged messages flow. Needs root; see lab.ts.
 */
import { assert, assertEquals } from "@std/assert";
import { ignoreNatLab } from "./lab.ts";
import {
  bothJoined,
  exchange,
  type LabEvent,
  pairOf,
  type Scenario,
  type ScenarioOptions,
  startScenario,
  stopScenario,
} from "./_scenario.ts";

const ignore = ignoreNatLab();

async function scenario(
  options: ScenarioOptions,
  check: (s: Scenario, joins: [LabEvent, LabEvent]) => Promise<void> | void,
) {
  const s = await startScenario(options);
  try {
    const joins = await bothJoined(s);
    await check(s, joins);
    const sent = await exchange(s, "hello through the NAT");
    assertEquals((sent.results as { ok: boolean }[]).every((r) => r.ok), true);
  } catch (err) {
    for (const p of [...s.peers, s.boot]) {
      console.error(`--- ${p.name}\n${p.stderr.slice(-3000)}`);
    }
    throw err;
  } finally {
    await stopScenario(s);
  }
}

const types = (e: LabEvent) => pairOf(e).split("/");

Deno.test(
  { name: "two hosts on one LAN connect directly over host candidates", ignore },
  async () => {
    await scenario({
      homes: [{ name: "a", nat: "cone", hosts: 2 }],
      turn: true,
      peers: ["a1", "a2"],
    }, (_s, joins) => {
      for (const j of joins) {
        assertEquals(j.path, "direct");
        assertEquals(types(j)[0], "host", `pair ${pairOf(j)}`);
      }
    });
  },
);

Deno.test(
  { name: "cone / cone connect directly over server-reflexive candidates", ignore },
  async () => {
    await scenario({
      homes: [{ name: "a", nat: "cone" }, { name: "b", nat: "cone" }],
      turn: true,
      peers: ["a1", "b1"],
    }, (_s, joins) => {
      for (const j of joins) {
        assertEquals(j.path, "direct", `pair ${pairOf(j)}`);
        assert(!pairOf(j).includes("relay"), `pair ${pairOf(j)}`);
        assert(
          !pairOf(j).startsWith("host/host"),
          `a NATed pair cannot be host/host: ${pairOf(j)}`,
        );
      }
    });
  },
);

Deno.test({ name: "symmetric / full cone connect directly", ignore }, async () => {
  await scenario({
    homes: [{ name: "a", nat: "symmetric" }, { name: "b", nat: "fullcone" }],
    turn: false,
    peers: ["a1", "b1"],
  }, (_s, joins) => {
    for (const j of joins) assertEquals(j.path, "direct", `pair ${pairOf(j)}`);
  });
});

Deno.test({ name: "symmetric / cone with TURN connect through TURN", ignore }, async () => {
  await scenario({
    homes: [{ name: "a", nat: "symmetric" }, { name: "b", nat: "cone" }],
    turn: true,
    peers: ["a1", "b1"],
  }, (_s, joins) => {
    for (const j of joins) assertEquals(j.path, "turn", `pair ${pairOf(j)}`);
    assert(
      joins.some((j) => pairOf(j).includes("relay")),
      "a relay candidate on at least one side",
    );
  });
});

Deno.test({ name: "symmetric / symmetric with TURN connect through TURN", ignore }, async () => {
  await scenario({
    homes: [{ name: "a", nat: "symmetric" }, { name: "b", nat: "symmetric" }],
    turn: true,
    peers: ["a1", "b1"],
  }, (_s, joins) => {
    for (const j of joins) assertEquals(j.path, "turn", `pair ${pairOf(j)}`);
  });
});

Deno.test(
  { name: "symmetric / symmetric without TURN fall back to the circuit relay", ignore },
  async () => {
    await scenario({
      homes: [{ name: "a", nat: "symmetric" }, { name: "b", nat: "symmetric" }],
      turn: false,
      peers: ["a1", "b1"],
    }, (_s, joins) => {
      for (const j of joins) assertEquals(j.path, "relay");
    });
  },
);

Deno.test({
  name: "symmetric / symmetric without TURN and with the relay disabled fail with a clear error",
  ignore,
}, async () => {
  const s = await startScenario({
    homes: [{ name: "a", nat: "symmetric" }, { name: "b", nat: "symmetric" }],
    turn: false,
    peers: ["a1", "b1"],
    allowRelay: false,
  });
  try {
    const failed = await Promise.any(
      s.peers.map((p) =>
        p.waitFor((e) => e.event === "connection:failed", "connection:failed", 120_000)
      ),
    );
    assert(String(failed.error).includes("relay disabled"), String(failed.error));
    assertEquals(s.peers.flatMap((p) => p.events).filter((e) => e.event === "peer:join").length, 0);
  } finally {
    await stopScenario(s);
  }
});

Deno.test(
  { name: "the STUN-reported address equals the router's WAN mapping", ignore },
  async () => {
    const s = await startScenario({
      homes: [{ name: "a", nat: "cone" }, { name: "b", nat: "symmetric" }],
      turn: false,
      peers: ["a1", "b1"],
    });
    try {
      for (const [i, home] of [[0, "a"], [1, "b"]] as const) {
        const joined = await s.peers[i].waitFor((e) => e.event === "joined", "joined");
        const stun = joined.stun as {
          status: string;
          address: string;
          localPort: number;
          mapped: { address: string; port: number };
        };
        assertEquals(stun.status, "ok");
        assertEquals(stun.mapped.address, s.lab.routers[home].wanIp);
        const mappings = await s.lab.wanMapping(home, { protocol: "udp" });
        const probe = mappings.find((m) =>
          m.internal.port === stun.localPort && m.remote?.port === 3478
        );
        assert(
          probe,
          `no conntrack entry for local port ${stun.localPort}: ${JSON.stringify(mappings)}`,
        );
        assertEquals(
          `${probe.external.ip}:${probe.external.port}`,
          `${stun.mapped.address}:${stun.mapped.port}`,
        );
      }
    } finally {
      await stopScenario(s);
    }
  },
);

Deno.test({
  name: "a link cut for 10 s mid-meeting reconnects by itself and loses no acknowledged message",
  ignore,
}, async () => {
  const s = await startScenario({
    homes: [{ name: "a", nat: "cone" }, { name: "b", nat: "cone" }],
    turn: true,
    peers: ["a1", "b1"],
  });
  try {
    await bothJoined(s);
    await exchange(s, "before the cut");
    await s.lab.cutLink("a");
    const texts: string[] = [];
    for (let i = 0; i < 10; i++) {
      const text = `during the cut ${i}`;
      texts.push(text);
      await s.peers[0].send(`send ${text}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await s.lab.restoreLink("a");
    texts.push("after the cut");
    await s.peers[0].send("send after the cut");
    for (const text of texts) {
      const sent = await s.peers[0].waitFor(
        (e) => e.event === "sent" && e.text === text,
        `ack of ${text}`,
        60_000,
      );
      const results = sent.results as { ok: boolean; error?: string }[];
      assert(results.length === 1 && results[0].ok, `${text}: ${JSON.stringify(results)}`);
    }
    const received = s.peers[1].events.filter((e) => e.event === "message").map((e) => e.text);
    assertEquals(received, ["before the cut", ...texts]);
    // Nobody left the meeting.
    assertEquals(
      s.peers.flatMap((p) => p.events).filter((e) => e.event === "peer:leave").length,
      0,
    );
  } finally {
    await stopScenario(s);
  }
});

Deno.test({ name: "IPv6 hosts connect directly over IPv6", ignore }, async () => {
  await scenario({
    homes: [{ name: "a", nat: "none" }, { name: "b", nat: "none" }],
    turn: false,
    ipv6: true,
    bindIpv6: true,
    peers: ["a1", "b1"],
  }, (_s, joins) => {
    for (const j of joins) {
      assertEquals(j.path, "direct");
      const pair = j.selectedCandidatePair as {
        local: { address: string };
        remote: { type: string; address: string };
      };
      // Both ends of a pair have one address family; libwebrtc does not reveal the address
      // of a peer-reflexive remote candidate, so the local end decides then.
      assert(
        pair.local.address.includes(":") &&
          (pair.remote.address.includes(":") ||
            (pair.remote.type === "prflx" && pair.remote.address === "")),
        JSON.stringify(pair),
      );
    }
  });
});
