import { assertEquals } from "@std/assert";
import { groupBootstrapAddresses } from "../src/_bootstrap_addresses.ts";

const A = "12D3KooWNd7s6iAQfSKWiSBBvFhKZDw4PuefNrvG46Mc6iqLLQNp";
const B = "12D3KooWQJgyEwU5JaPYmGiwqbDnrMAZy7cUNB3QZ6mRZNtpLrkn";

Deno.test("groupBootstrapAddresses dials each bootstrap node once with all its addresses", () => {
  const groups = groupBootstrapAddresses([
    `/ip4/127.0.0.1/tcp/4001/ws/p2p/${A}`,
    `/ip4/127.0.0.1/tcp/4002/p2p/${B}`,
    `/ip4/127.0.0.1/tcp/4000/p2p/${A}`,
    `/ip4/127.0.0.1/tcp/4000/p2p/${A}`, // a duplicate is dialed once
    "/ip4/127.0.0.1/tcp/4003", // no peer id: on its own
  ]);
  assertEquals(groups.map((g) => g.map(String)), [
    [`/ip4/127.0.0.1/tcp/4001/ws/p2p/${A}`, `/ip4/127.0.0.1/tcp/4000/p2p/${A}`],
    [`/ip4/127.0.0.1/tcp/4002/p2p/${B}`],
    ["/ip4/127.0.0.1/tcp/4003"],
  ]);
});

Deno.test("groupBootstrapAddresses keeps a relayed address apart from its relay", () => {
  const relayed = `/ip4/127.0.0.1/tcp/4002/p2p/${B}/p2p-circuit/p2p/${A}`;
  const groups = groupBootstrapAddresses([`/ip4/127.0.0.1/tcp/4000/p2p/${A}`, relayed]);
  assertEquals(groups.map((g) => g.map(String)), [
    [`/ip4/127.0.0.1/tcp/4000/p2p/${A}`],
    [relayed],
  ]);
});
