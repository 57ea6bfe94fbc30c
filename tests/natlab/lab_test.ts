import {
  assert,
  assertEquals,
  assertExists,
  assertMatch,
  assertNotEquals,
  assertRejects,
  assertThrows,
} from "@std/assert";
import { createNatLab, ignoreNatLab, type NatLab, natLabAvailable, NatLabError } from "./lab.ts";

const ignore = ignoreNatLab();
const STEP_TIMEOUT = 15_000;

/** Runs `turnutils_natdiscovery` inside a host and returns what it reports. */
async function natDiscovery(
  lab: NatLab,
  host: string,
  test: "-m" | "-f",
  server = lab.stun.host,
): Promise<{ mapped: { ip: string; port: number }[]; verdict: string }> {
  const { code, stdout, stderr } = await lab.exec(
    lab.hosts[host],
    ["turnutils_natdiscovery", test, server],
    { timeout: STEP_TIMEOUT },
  );
  assertEquals(code, 0, `natdiscovery ${test} in ${host} failed: ${stderr}${stdout}`);
  const mapped = [...stdout.matchAll(/UDP reflexive addr: (\S+):(\d+)/g)].map((m) => ({
    ip: m[1],
    port: Number(m[2]),
  }));
  const verdict = stdout.match(/NAT with [^\n!]+/)?.[0] ?? "";
  assert(mapped.length > 0, `natdiscovery ${test} in ${host} got no binding:\n${stdout}`);
  return { mapped, verdict };
}

/** Whether one ping from `ns` to `ip` gets an answer within half a second (namespaces answer in well under 1 ms). */
async function pings(lab: NatLab, target: string | { ns: string }, ip: string): Promise<boolean> {
  const { code } = await lab.exec(target, ["ping", "-n", "-c", "1", "-W", "0.5", ip], {
    timeout: 5_000,
  });
  return code === 0;
}

/** Names of the host's own network interfaces. */
async function hostLinks(): Promise<string[]> {
  const { stdout } = await new Deno.Command("ip", { args: ["-o", "link", "show"], stdout: "piped" })
    .output();
  return new TextDecoder().decode(stdout).split("\n").filter(Boolean).map((l) =>
    l.split(":")[1].trim()
  )
    .sort();
}

/** Whether a process exists and is not a zombie. */
async function running(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

async function namespaces(): Promise<string[]> {
  const { stdout } = await new Deno.Command("ip", { args: ["netns", "list"], stdout: "piped" })
    .output();
  return new TextDecoder().decode(stdout).split("\n").filter(Boolean).map((l) => l.split(" ")[0]);
}

Deno.test("createNatLab() rejects invalid options with TypeError or RangeError before building", async () => {
  await assertRejects(() => createNatLab({ prefix: "Bad-Prefix" }), TypeError, "prefix");
  await assertRejects(
    () => createNatLab({ homes: [{ name: "a1", nat: "cone" }] }),
    TypeError,
    "home name",
  );
  await assertRejects(
    () => createNatLab({ homes: [{ name: "a", nat: "cone" }, { name: "a", nat: "none" }] }),
    TypeError,
    "twice",
  );
  await assertRejects(
    // deno-lint-ignore no-explicit-any
    () => createNatLab({ homes: [{ name: "a", nat: "carrier" as any }] }),
    TypeError,
    "NAT kind",
  );
  await assertRejects(
    () => createNatLab({ homes: [{ name: "a", nat: "cone", hosts: 0 }] }),
    RangeError,
  );
  await assertRejects(
    () => createNatLab({ homes: [{ name: "a", nat: "cone", subnet: "198.51.100" }] }),
    TypeError,
    "internet",
  );
});

Deno.test("natLabAvailable() reports why the lab cannot run, or ok", () => {
  const { ok, reason } = natLabAvailable();
  assert(ok || (typeof reason === "string" && reason.length > 0));
  if (Deno.env.get("CI") === "true") {
    assertEquals(ignore, false, "CI=true: NAT lab tests must not skip");
  }
});

Deno.test({
  name:
    "createNatLab() puts hosts behind real NATs: the STUN-mapped address is the router's WAN mapping",
  ignore,
  async fn() {
    await using lab = await createNatLab({
      homes: [
        { name: "a", nat: "cone" },
        { name: "b", nat: "symmetric" },
        { name: "c", nat: "fullcone" },
        { name: "d", nat: "none" },
      ],
      ipv6: true,
    });
    for (const [home, kind] of [["a", "cone"], ["b", "symmetric"], ["c", "fullcone"]] as const) {
      const router = lab.routers[home];
      assertEquals(router.nat, kind);
      const host = lab.hosts[`${home}1`];
      for (const family of ["ipv4", "ipv6"] as const) {
        const v6 = family === "ipv6";
        const server = v6 ? lab.stun.host6! : lab.stun.host;
        const { mapped, verdict } = await natDiscovery(lab, host.name, "-m", server);
        const wanIp = v6 ? router.wanIp6 : router.wanIp;
        for (const m of mapped) {
          assertEquals(m.ip, wanIp, `${kind}/${family}: mapped IP is the router's WAN IP`);
        }
        // The router's conntrack table holds the same mapping STUN reported.
        const table = (await lab.wanMapping(home)).filter((m) => m.family === family);
        const first = table.find((m) => m.remote.ip === server && m.remote.port === lab.stun.port);
        assertExists(first, `${kind}/${family}: no conntrack mapping towards ${server}`);
        assertEquals(first.internal.ip, v6 ? host.ip6 : host.ip);
        assertEquals(first.external, mapped[0], `${kind}/${family}: STUN and conntrack disagree`);
        if (kind === "symmetric") {
          assertEquals(verdict, "NAT with Address and Port Dependent Mapping", `${kind}/${family}`);
          assertEquals(
            new Set(mapped.map((m) => m.port)).size,
            mapped.length,
            "a new port per destination",
          );
        } else {
          assertEquals(verdict, "NAT with Endpoint Independent Mapping", `${kind}/${family}`);
          assertEquals(
            new Set(mapped.map((m) => m.port)).size,
            1,
            "one mapping for every destination",
          );
          assertEquals(
            first.external.port,
            first.internal.port,
            `${kind}/${family}: port preserved`,
          );
        }
      }
    }
    // nat "none": the host is on the internet and sees its own address.
    for (const v6 of [false, true]) {
      const { mapped } = await natDiscovery(lab, "d1", "-m", v6 ? lab.stun.host6! : lab.stun.host);
      assertEquals(mapped[0].ip, v6 ? lab.hosts.d1.ip6 : lab.hosts.d1.ip);
    }
    await assertRejects(() => lab.wanMapping("d"), TypeError, "no router");
  },
});

Deno.test({
  name: "createNatLab() filters unsolicited inbound UDP on cone NATs but not on full cone NATs",
  ignore,
  async fn() {
    await using lab = await createNatLab({
      homes: [{ name: "a", nat: "cone" }, { name: "c", nat: "fullcone" }],
    });
    // natdiscovery asks the server to answer from its other address; a filtering NAT
    // drops that answer (two 3 s timeouts), so run both homes at once.
    const [cone, fullcone] = await Promise.all([
      natDiscovery(lab, "a1", "-f"),
      natDiscovery(lab, "c1", "-f"),
    ]);
    assertEquals(cone.verdict, "NAT with Address and Port Dependent Filtering");
    assertEquals(fullcone.verdict, "NAT with Endpoint Independent Filtering");
  },
});

Deno.test({
  name:
    "createNatLab() runs coturn with long-term TURN credentials that relay through a symmetric NAT",
  ignore,
  async fn() {
    await using lab = await createNatLab({
      homes: [{ name: "b", nat: "symmetric" }],
      turn: { user: "alice", password: "s3cret" },
    });
    assertExists(lab.turn);
    assertEquals(lab.turn.username, "alice");
    assertEquals(lab.turn.credential, "s3cret");
    assertEquals(lab.turn.urls[0], `turn:${lab.stun.host}:3478?transport=udp`);
    assertEquals(lab.iceServers, [{ urls: [`stun:${lab.stun.host}:3478`] }, lab.turn]);
    const uclient = (password: string) =>
      lab.exec(lab.hosts.b1, [
        "turnutils_uclient",
        ...["-y", "-c", "-m", "1", "-n", "1", "-z", "1", "-u", "alice", "-w", password],
        lab.stun.host,
      ], { timeout: STEP_TIMEOUT });
    const bad = await uclient("wrong");
    assertNotEquals(bad.code, 0, "a wrong password must not get an allocation");
    const good = await uclient("s3cret");
    assertEquals(good.code, 0, good.stdout + good.stderr);
    assertMatch(good.stdout, /tot_send_msgs=([1-9]\d*), tot_recv_msgs=\1\b/);
    assertMatch(good.stdout, /Total lost packets 0 /);
  },
});

Deno.test({
  name: "cutLink() makes the internet unreachable until restoreLink(), and can restore by itself",
  ignore,
  async fn() {
    await using lab = await createNatLab({
      homes: [{ name: "a", nat: "cone", hosts: 2 }, { name: "d", nat: "none" }],
      ipv6: true,
    });
    const { a1, a2, d1 } = lab.hosts;
    for (const host of [a1, d1]) {
      assert(await pings(lab, host, lab.internetIp), `${host.name} is online`);
    }
    assert(await pings(lab, a1, lab.internet.ip6!), "a1 is online over IPv6");

    await lab.cutLink("a");
    await lab.cutLink("a"); // idempotent
    assertEquals(await pings(lab, a1, lab.internetIp), false, "a1 is cut off");
    assertEquals(await pings(lab, a1, lab.internet.ip6!), false, "a1 is cut off over IPv6");
    assertEquals(
      await pings(lab, lab.internet, lab.routers.a.wanIp),
      true,
      "the router itself stays up",
    );
    assert(await pings(lab, a1, a2.ip), "the home LAN still works");
    assert(await pings(lab, d1, lab.internetIp), "other homes are not affected");
    await lab.restoreLink("a");
    await lab.restoreLink("a"); // idempotent
    assert(await pings(lab, a1, lab.internetIp), "a1 is back online");
    assert(await pings(lab, a1, lab.internet.ip6!), "a1 is back online over IPv6");

    await lab.cutLink("d");
    assertEquals(await pings(lab, d1, lab.internetIp), false, "a host without NAT is cut off too");
    await lab.restoreLink("d");
    assert(await pings(lab, d1, lab.internetIp), "d1 is back online");

    await lab.cutLink("a", 300);
    assertEquals(await pings(lab, a1, lab.internetIp), false, "cut for 300 ms");
    let back = false;
    for (let i = 0; i < 30 && !back; i++) back = await pings(lab, a1, lab.internetIp);
    assert(back, "the link comes back by itself");
    await lab.cutLink("a", 60_000); // close() clears the timer
    await assertRejects(() => lab.cutLink("zz"), TypeError, "Unknown home");
  },
});

Deno.test({
  name:
    "createNatLab() isolates hosts of a home with lan: false and keeps everything off the host's network",
  ignore,
  async fn() {
    const before = await hostLinks();
    await using lab = await createNatLab({
      homes: [{ name: "a", nat: "cone", hosts: 2 }, {
        name: "g",
        nat: "symmetric",
        hosts: 2,
        lan: false,
      }],
    });
    const { a1, a2, g1, g2 } = lab.hosts;
    assertEquals(await hostLinks(), before, "no interface appears on the host");
    assert(await pings(lab, a1, a2.ip), "hosts of a shared LAN reach each other");
    assertEquals(await pings(lab, g1, g2.ip), false, "isolated hosts do not");
    for (const host of [g1, g2]) {
      assert(await pings(lab, host, lab.internetIp), `${host.name} is online`);
    }
    // Nothing leaves the lab: the host's own addresses are unreachable from inside.
    const { stdout } = await new Deno.Command("ip", {
      args: ["-4", "-o", "addr", "show", "scope", "global"],
      stdout: "piped",
    }).output();
    const hostIps = [...new TextDecoder().decode(stdout).matchAll(/inet (\d+\.\d+\.\d+\.\d+)/g)]
      .map((m) => m[1]);
    const reached = await Promise.all(
      hostIps.flatMap((ip) => [pings(lab, a1, ip), pings(lab, lab.internet, ip)]),
    );
    assertEquals(reached.filter(Boolean).length, 0, `lab reached the host at ${hostIps}`);
  },
});

Deno.test({
  name: "close() kills spawned processes and leaves no namespace or interface behind",
  ignore,
  async fn() {
    const before = await hostLinks();
    const lab = await createNatLab({ turn: false });
    try {
      assertEquals(lab.turn, undefined);
      assertEquals(lab.iceServers, [{ urls: [`stun:${lab.stun.host}:3478`] }]);
      const { mapped } = await natDiscovery(lab, "a1", "-m");
      assertEquals(mapped[0].ip, lab.routers.a.wanIp, "STUN-only coturn answers");
      const sleeper = lab.spawn(lab.hosts.a1, ["sleep", "600"], { stdout: "null", stderr: "null" });
      // A grandchild the lab did not start itself: found by its namespace.
      const parent = lab.spawn(lab.internet, ["sh", "-c", "sleep 600 & echo $!; wait"], {
        stderr: "null",
      });
      const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const grandchild = Number((await reader.read()).value);
      await reader.cancel();
      assert(grandchild > 0);
      const all = await namespaces();
      for (const ns of lab.namespaces) assert(all.includes(ns), `${ns} exists`);

      await lab.close();
      assertEquals((await sleeper.status).success, false, "spawned process was killed");
      await parent.status;
      assertEquals(await running(grandchild), false, "the grandchild was killed");
      const left = (await namespaces()).filter((ns) => ns.startsWith(`${lab.prefix}-`));
      assertEquals(left, [], "no namespace is left");
      assertEquals(await hostLinks(), before, "no interface is left on the host");
      await lab.close(); // idempotent
      await assertRejects(() => lab.exec(lab.hosts.a1, ["true"]), NatLabError, "closed");
      assertThrows(() => lab.spawn(lab.hosts.a1, ["true"]), NatLabError, "closed");
    } finally {
      await lab.close();
    }
  },
});

Deno.test({
  name: "createNatLab() deletes what a crashed run left with its prefix, and two labs coexist",
  ignore,
  async fn() {
    const prefix = `mmt${crypto.getRandomValues(new Uint8Array(2)).join("").slice(0, 4)}`;
    const stale = `${prefix}-a1`;
    const add = await new Deno.Command("ip", { args: ["netns", "add", stale] }).output();
    assert(add.success);
    await using first = await createNatLab({ prefix });
    await using second = await createNatLab({ homes: [{ name: "a", nat: "symmetric" }] });
    assertNotEquals(first.prefix, second.prefix);
    // The old a1 was replaced: the new one is wired up and online.
    assert(await pings(first, first.hosts.a1, first.internetIp));
    assert(await pings(second, second.hosts.a1, second.internetIp));
    await assertRejects(() => createNatLab({ prefix }), NatLabError, "used by an open lab");
    assert(
      await pings(first, first.hosts.a1, first.internetIp),
      "the refused lab left the open one alone",
    );
    await assertRejects(
      () => first.exec("some-other-ns", ["true"]),
      TypeError,
      "not part of NAT lab",
    );
  },
});

Deno.test({
  name: "createNatLab() removes everything it built when building times out or is aborted",
  ignore,
  async fn() {
    const prefix = `mmf${crypto.getRandomValues(new Uint8Array(2)).join("").slice(0, 4)}`;
    const left = async () => (await namespaces()).filter((ns) => ns.startsWith(`${prefix}-`));
    await assertRejects(() => createNatLab({ prefix, timeout: 1 }), NatLabError, "timed out");
    assertEquals(await left(), []);
    const controller = new AbortController();
    const reason = new Error("test aborted the build");
    const building = createNatLab({ prefix, signal: controller.signal });
    controller.abort(reason);
    assertEquals(await building.then(() => "built", (e) => e), reason);
    assertEquals(await left(), []);
    // The prefix is free again.
    await using lab = await createNatLab({ prefix });
    assert(await pings(lab, lab.hosts.a1, lab.internetIp));
  },
});

Deno.test({
  name:
    "exec() rejects after its timeout even when the command ignores SIGTERM and leaves children",
  ignore,
  async fn() {
    await using lab = await createNatLab({ homes: [{ name: "a", nat: "cone" }], turn: false });
    const started = performance.now();
    await assertRejects(
      () =>
        lab.exec(lab.hosts.a1, ["sh", "-c", 'trap "" TERM; sleep 600 & echo started; sleep 600'], {
          timeout: 300,
        }),
      NatLabError,
      "timed out after 300 ms",
    );
    const elapsed = performance.now() - started;
    assert(elapsed < 3_000, `exec() took ${elapsed} ms to give up`);
    const controller = new AbortController();
    const reason = new Error("test gave up");
    const running = lab.exec(lab.hosts.a1, ["sleep", "600"], { signal: controller.signal });
    controller.abort(reason);
    assertEquals(await running.then(() => "finished", (e) => e), reason);
    const { code, stdout } = await lab.exec(lab.hosts.a1, ["sh", "-c", "echo $0; exit 3", "hi"]);
    assertEquals([code, stdout], [3, "hi\n"]);
  },
});
