import { assertRejects } from "@std/assert";
import { BootstrapError, generateInvitationCode, joinMeeting } from "../mod.ts";

// Everything here is refused before a libp2p node starts: Deno's test sanitizers fail the
// test if a refused join leaves a timer, socket or promise behind.
const BOOT = ["/ip4/127.0.0.1/tcp/9/p2p/12D3KooWNd7s6iAQfSKWiSBBvFhKZDw4PuefNrvG46Mc6iqLLQNp"];

Deno.test("joinMeeting() names the option that is out of range, before anything starts", async () => {
  const code = generateInvitationCode();
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ maxPeers: 0 }, "options.maxPeers must be a positive integer, got 0"],
    [{ maxDialsInFlight: 1.5 }, "options.maxDialsInFlight must be a positive integer, got 1.5"],
    [{ leaseMs: -1 }, "options.leaseMs must be a positive number of milliseconds, got -1"],
    [
      { dialTimeoutMs: "5s" },
      'options.dialTimeoutMs must be a positive number of milliseconds, got "5s"',
    ],
    [{ rendezvous: { ttlMs: 0 } }, "options.rendezvous.ttlMs must be a positive number"],
  ];
  for (const [options, message] of cases) {
    await assertRejects(
      () => joinMeeting(code, { bootstrap: BOOT, ...options }),
      RangeError,
      message,
    );
  }
  await assertRejects(
    () => joinMeeting(code, { bootstrap: BOOT, allowRelay: "yes" as unknown as boolean }),
    TypeError,
    "options.allowRelay must be a boolean",
  );
});

Deno.test("joinMeeting() refuses an empty bootstrap list and a malformed address with clear errors", async () => {
  const code = generateInvitationCode();
  await assertRejects(
    () => joinMeeting(code, { bootstrap: [], localDiscovery: false }),
    BootstrapError,
    "pass options.bootstrap",
  );
  await assertRejects(
    () => joinMeeting(code, { bootstrap: ["not-a-multiaddr"] }),
    TypeError,
    'bootstrap address "not-a-multiaddr" is not a multiaddr',
  );
});

Deno.test("joinMeeting() checks overlay options before anything starts", async () => {
  await assertRejects(
    () => joinMeeting(generateInvitationCode(), { overlay: { lowDegree: 9, targetDegree: 4 } }),
    RangeError,
    "lowDegree ≤ targetDegree",
  );
  await assertRejects(
    () => joinMeeting(generateInvitationCode(), { overlay: { heartbeatMs: -1 } }),
    RangeError,
    "heartbeatMs",
  );
  await assertRejects(
    // deno-lint-ignore no-explicit-any
    () => joinMeeting(generateInvitationCode(), { overlay: "yes" as any }),
    TypeError,
    "options.overlay",
  );
});
