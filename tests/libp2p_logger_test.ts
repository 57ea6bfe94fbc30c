import { assert, assertEquals } from "@std/assert";
import { disable, enable } from "@libp2p/logger";
import { libp2pLogger } from "../src/_libp2p_logger.ts";

Deno.test("libp2p logger: silent with no DEBUG pattern, one shared cheap logger per scope", () => {
  disable();
  const log = libp2pLogger.forComponent("libp2p:tcp");
  assertEquals(log.enabled, false);
  const scope = log.newScope("listener");
  assertEquals(scope.enabled, false);
  log("nothing is printed");
  scope.error("nor here");
  scope.trace("nor here");
  assertEquals((scope.error as unknown as { enabled?: boolean }).enabled, undefined);
});

Deno.test("libp2p logger: DEBUG patterns select components, their errors and their scopes", () => {
  try {
    enable("libp2p:tcp,libp2p:dht:error,libp2p:relay:circuit");
    assertEquals(libp2pLogger.forComponent("libp2p:tcp").enabled, true);
    // Its errors only: libp2p's logger is used (the component line itself stays off).
    const dht = libp2pLogger.forComponent("libp2p:dht");
    assertEquals(dht.enabled, false);
    assertEquals((dht.error as unknown as { enabled?: boolean }).enabled, true);
    // A scope named by a pattern under a silent component.
    const relay = libp2pLogger.forComponent("libp2p:relay");
    assertEquals(relay.enabled, false);
    assert(relay.newScope("circuit").enabled);
    assertEquals(relay.newScope("other").enabled, false);
    // Patterns set later apply to loggers made later.
    enable("libp2p:*");
    assert(libp2pLogger.forComponent("libp2p:anything").enabled);
  } finally {
    disable();
  }
});
