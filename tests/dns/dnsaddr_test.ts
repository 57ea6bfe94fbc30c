/**
 * `/dnsaddr` bootstrap lists resolved through a real DNS server: Debian's dnsmasq, started
 * by the test on 127.0.0.1 with the TXT records `meshmeet serve` prints. Nothing leaves
 * loopback.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import {
  BootstrapError,
  dnsaddrRecords,
  generateInvitationCode,
  joinMeeting,
  type Meeting,
  resolveBootstrapList,
} from "../../mod.ts";
import { LOOPBACK_RTC, startLoopbackBootstrap, waitUntil } from "../integration/_harness.ts";
import { CliProcess } from "../cli/_cli.ts";

const DNSMASQ = "/usr/sbin/dnsmasq";

function hasDnsmasq(): boolean {
  try {
    return Deno.statSync(DNSMASQ).isFile;
  } catch {
    return false;
  }
}

const ignore = !hasDnsmasq() && Deno.env.get("CI") !== "true";
if (ignore) console.error("dnsaddr_test: /usr/sbin/dnsmasq missing (.ci/install_lab_packages.sh)");

/** Start dnsmasq on 127.0.0.1 with TXT records given as [name, text] pairs. */
async function startDnsmasq(records: Array<[string, string]>) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const child = new Deno.Command(DNSMASQ, {
      args: [
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        `--port=${port}`,
        "--user=root",
        "--pid-file=",
        ...records.map(([name, text]) => `--txt-record=${name},${text}`),
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // dnsmasq exits at once when the port is taken; otherwise it answers.
    const exited = await Promise.race([
      child.status.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 300)),
    ]);
    if (exited) {
      await child.stderr.cancel().catch(() => {});
      continue;
    }
    return {
      nameServer: { ipAddr: "127.0.0.1", port },
      async [Symbol.asyncDispose]() {
        child.kill("SIGTERM");
        await child.status;
        await child.stderr.cancel().catch(() => {});
      },
    };
  }
  throw new Error("could not start dnsmasq on a free port");
}

Deno.test({
  name: "resolveBootstrapList() resolves nested /dnsaddr names through a DNS server (dnsmasq)",
  ignore,
}, async () => {
  const a = "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN";
  const b = "/ip4/127.0.0.1/tcp/4002/ws/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN";
  await using dns = await startDnsmasq([
    ["_dnsaddr.boot.meshmeet.test", `dnsaddr=${a}`],
    ["_dnsaddr.boot.meshmeet.test", "dnsaddr=/dnsaddr/ws.boot.meshmeet.test"],
    ["_dnsaddr.ws.boot.meshmeet.test", `dnsaddr=${b}`],
  ]);
  const list = await resolveBootstrapList(["/dnsaddr/boot.meshmeet.test"], {
    nameServer: dns.nameServer,
  });
  assertEquals(new Set(list), new Set([a, b]));
  await assertRejects(
    () => resolveBootstrapList(["/dnsaddr/missing.meshmeet.test"], { nameServer: dns.nameServer }),
    BootstrapError,
    "no dnsaddr TXT records",
  );
});

Deno.test({
  name: "joinMeeting() with /dnsaddr/<domain> as its only bootstrap entry: two peers meet",
  ignore,
}, async () => {
  const boot = await startLoopbackBootstrap();
  const meetings: Meeting[] = [];
  try {
    // Exactly the records `meshmeet serve --dnsaddr boot.meshmeet.test` prints.
    const records = dnsaddrRecords("boot.meshmeet.test", boot.addresses).map((line) => {
      const m = line.match(/^(\S+)\. 300 IN TXT "(.*)"$/)!;
      return [m[1], m[2]] as [string, string];
    });
    await using dns = await startDnsmasq(records);
    const code = generateInvitationCode();
    for (const name of ["Ada", "Bob"]) {
      meetings.push(
        await joinMeeting(code, {
          name,
          bootstrap: ["/dnsaddr/boot.meshmeet.test"],
          dns: { nameServer: dns.nameServer },
          rtcConfiguration: LOOPBACK_RTC,
        }),
      );
    }
    await waitUntil(
      () => meetings.every((m) => m.participants.some((p) => p.state === "connected")),
      "Ada and Bob to meet",
    );
    assertEquals(meetings[0].participants[0].name, "Bob");
    // The node reached the bootstrap node whose addresses DNS listed.
    assert(meetings[0].libp2p.getConnections().some((c) => c.remotePeer.equals(boot.peerId)));
  } finally {
    await Promise.allSettled(meetings.map((m) => m.leave()));
    await boot.stop();
  }
});

Deno.test({
  name: "meshmeet serve --dnsaddr prints TXT records that, once published, bootstrap a join",
  ignore,
}, async () => {
  await using serve = new CliProcess("serve", [
    "serve",
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--listen",
    "/ip4/127.0.0.1/udp/0/webrtc-direct",
    "--dnsaddr",
    "boot.meshmeet.test",
    "--json",
  ]);
  const listening = await serve.waitForEvent((e) => e.event === "listening", "addresses");
  const printed = await serve.waitForEvent((e) => e.event === "dnsaddr", "the TXT records");
  const addresses = listening.addresses as string[];
  assert(addresses.some((a) => a.includes("/webrtc-direct/certhash/")), addresses.join(" "));
  const records = (printed.records as string[]).map((line) => {
    const m = line.match(/^(_dnsaddr\.boot\.meshmeet\.test)\. 300 IN TXT "dnsaddr=(.*)"$/);
    assert(m, line);
    return [m[1], `dnsaddr=${m[2]}`] as [string, string];
  });
  assertEquals(records.map(([, t]) => t.slice(8)), addresses);
  await using dns = await startDnsmasq(records);
  // Deno's participants dial TCP; the WebRTC-Direct entry is for browsers and is skipped.
  const list = await resolveBootstrapList(["/dnsaddr/boot.meshmeet.test"], {
    nameServer: dns.nameServer,
  });
  assertEquals(new Set(list), new Set(addresses));
  const meeting = await joinMeeting(generateInvitationCode(), {
    bootstrap: ["/dnsaddr/boot.meshmeet.test"],
    dns: { nameServer: dns.nameServer },
    rtcConfiguration: LOOPBACK_RTC,
  });
  try {
    assert(meeting.self.addresses.some((a) => a.includes(listening.peerId as string)));
  } finally {
    await meeting.leave();
  }
});
