import { assertEquals, assertRejects } from "@std/assert";
import {
  BootstrapError,
  dnsaddrRecords,
  parseBootstrapList,
  resolveBootstrapList,
} from "../mod.ts";

const A = "/ip4/192.0.2.1/tcp/4001/p2p/12D3KooWA";
const B = "/ip4/192.0.2.2/tcp/4001/ws/p2p/12D3KooWB";

function fakeDns(zone: Record<string, string[]>) {
  const asked: string[] = [];
  return {
    asked,
    resolveTxt: (name: string) => {
      asked.push(name);
      return Promise.resolve(zone[name] ?? []);
    },
  };
}

Deno.test("parseBootstrapList() splits MESHMEET_BOOTSTRAP on commas, spaces and newlines", () => {
  assertEquals(parseBootstrapList(` ${A},${B}\n/dnsaddr/x.example `), [A, B, "/dnsaddr/x.example"]);
  assertEquals(parseBootstrapList(undefined), []);
  assertEquals(parseBootstrapList(""), []);
});

Deno.test("resolveBootstrapList() expands /dnsaddr names, nested ones too, and keeps other entries", async () => {
  const dns = fakeDns({
    "_dnsaddr.boot.example": ["dnsaddr=/dnsaddr/ws.boot.example", `dnsaddr=${A}`, "v=spf1 -all"],
    "_dnsaddr.ws.boot.example": [`dnsaddr=${B}`],
  });
  const list = await resolveBootstrapList(
    ["/dnsaddr/boot.example", A, "/ip4/192.0.2.9/tcp/1"],
    dns,
  );
  assertEquals(list, [B, A, "/ip4/192.0.2.9/tcp/1"]);
  assertEquals(dns.asked, ["_dnsaddr.boot.example", "_dnsaddr.ws.boot.example"]);
});

Deno.test("resolveBootstrapList() keeps only the named peer of /dnsaddr/<domain>/p2p/<id>", async () => {
  const dns = fakeDns({ "_dnsaddr.boot.example": [`dnsaddr=${A}`, `dnsaddr=${B}`] });
  assertEquals(await resolveBootstrapList(["/dnsaddr/boot.example/p2p/12D3KooWB"], dns), [B]);
});

Deno.test("resolveBootstrapList() rejects with BootstrapError when nothing resolves, a record is no multiaddr, or names nest too deep", async () => {
  await assertRejects(
    () => resolveBootstrapList(["/dnsaddr/none.example"], fakeDns({})),
    BootstrapError,
    "/dnsaddr/none.example: no dnsaddr TXT records",
  );
  await assertRejects(
    () =>
      resolveBootstrapList(
        ["/dnsaddr/bad.example"],
        fakeDns({ "_dnsaddr.bad.example": ["dnsaddr=not a multiaddr"] }),
      ),
    BootstrapError,
    "is not a multiaddr",
  );
  await assertRejects(
    () =>
      resolveBootstrapList(
        ["/dnsaddr/loop.example"],
        fakeDns({ "_dnsaddr.loop.example": ["dnsaddr=/dnsaddr/loop.example"] }),
      ),
    BootstrapError,
    "nest deeper than 4 levels",
  );
  // One name failing is fine while another entry is left.
  assertEquals(await resolveBootstrapList(["/dnsaddr/none.example", A], fakeDns({})), [A]);
});

Deno.test("dnsaddrRecords() prints zone-file TXT lines for a domain", () => {
  assertEquals(dnsaddrRecords("boot.example.", [A, B]), [
    `_dnsaddr.boot.example. 300 IN TXT "dnsaddr=${A}"`,
    `_dnsaddr.boot.example. 300 IN TXT "dnsaddr=${B}"`,
  ]);
});
