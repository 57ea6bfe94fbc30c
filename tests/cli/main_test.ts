/**
 * The CLI's contract as a subprocess: `--help` everywhere, usage and exit code 2 on bad
 * arguments, a one-line reason and exit code 1 on failure.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { normalizeInvitationCode } from "../../src/invitation_code.ts";
import { runCli } from "./_cli.ts";

const COMMANDS = ["serve", "join", "lookup", "doctor", "code"];

/** Run several CLI invocations two at a time (the machine has 2 cores). */
async function runAll(list: string[][]) {
  const results = new Array(list.length);
  let next = 0;
  await Promise.all([0, 1].map(async () => {
    while (next < list.length) {
      const i = next++;
      results[i] = await runCli(list[i]);
    }
  }));
  return results as Awaited<ReturnType<typeof runCli>>[];
}

Deno.test("meshmeet --help and <command> --help print usage and exit 0", async () => {
  const runs = await runAll([
    ["--help"],
    ["-h"],
    ...COMMANDS.map((c) => [c, "--help"]),
    ["join", "some-code", "-h"],
  ]);
  for (const [i, r] of runs.entries()) {
    assertEquals(r.code, 0, `run ${i}: ${r.stderr}`);
    assertEquals(r.stderr, "");
  }
  assertStringIncludes(runs[0].stdout, "Commands:");
  for (const [i, c] of COMMANDS.entries()) {
    assertMatch(runs[i + 2].stdout, new RegExp(`^meshmeet ${c}`));
  }
  assertStringIncludes(runs[2].stdout, "--http"); // serve
  assertStringIncludes(runs[3].stdout, "--http"); // join
  assertStringIncludes(runs[5].stdout, "--stun"); // doctor
});

Deno.test("meshmeet --version prints the version and the runtime", async () => {
  const r = await runCli(["--version"]);
  assertEquals(r.code, 0);
  assertMatch(r.stdout, /^meshmeet \d+\.\d+\.\d+ \(deno \d/);
});

Deno.test("meshmeet code prints a valid invitation code", async () => {
  const r = await runCli(["code"]);
  assertEquals(r.code, 0, r.stderr);
  normalizeInvitationCode(r.stdout.trim()); // throws when invalid
  assertMatch(r.stdout, /^[a-z]+(-[a-z]+){4}-\d{4}\n$/);
});

Deno.test("meshmeet with bad arguments prints the usage and exits 2", async () => {
  const cases: Array<[string[], string, string]> = [
    [[], "", "Commands:"],
    [["fly"], 'unknown command "fly"', "Commands:"],
    [["serve", "--bogus"], "unknown option --bogus", "meshmeet serve"],
    [["serve", "extra"], "serve takes no arguments", "meshmeet serve"],
    [["serve", "--http", "localhost:99999"], "is not [host:]port", "meshmeet serve"],
    [["serve", "--token", "abcdefgh"], "--token needs --http", "meshmeet serve"],
    [["serve", "--http", "0", "--token", "short"], "at least 8 characters", "meshmeet serve"],
    [["serve", "--ice-server", "http://x"], "is not a stun:", "meshmeet serve"],
    [["join"], "exactly one invitation code", "meshmeet join"],
    [["join", "a-b-c-d-e-1234", "--no-local"], "--bootstrap", "meshmeet join"],
    [["join", "a-b-c-d-e-1234", "--bootstrap"], "needs a value", "meshmeet join"],
    [["lookup"], "exactly one topic id", "meshmeet lookup"],
    [["lookup", "ab".repeat(32)], "either --bootstrap", "meshmeet lookup"],
    [["lookup", "ab".repeat(32), "--api", "not a url"], "is not a URL", "meshmeet lookup"],
    [
      ["lookup", "ab".repeat(32), "--api", "http://x", "--timeout", "5"],
      "--timeout",
      "meshmeet lookup",
    ],
    [["doctor", "--stun", "a:b:c"], "is not host:port", "meshmeet doctor"],
    [["doctor", "--bootstrap", "/ip4/127.0.0.1/tcp/1"], "/p2p/<peer id>", "meshmeet doctor"],
    [["doctor", "now"], "takes no arguments", "meshmeet doctor"],
    [["code", "x"], "takes no arguments", "meshmeet code"],
  ];
  const runs = await runAll(cases.map(([args]) => args));
  for (const [i, r] of runs.entries()) {
    const [args, reason, usage] = cases[i];
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assertStringIncludes(r.stderr, reason, args.join(" "));
    assertStringIncludes(r.stderr, usage, args.join(" "));
    assertEquals(r.stdout, "", args.join(" "));
  }
});

Deno.test("meshmeet reports a failure in one line and exits 1", async () => {
  const runs = await runAll([
    // A code is turned into a topic id locally, then the API is unreachable.
    ["lookup", "maple-harbor-sunset-meadow-pilot-4821", "--api", "http://127.0.0.1:9"],
    [
      "join",
      "x",
      "--bootstrap",
      "/ip4/127.0.0.1/tcp/9/ws/p2p/12D3KooWJvr7y21GEWJCpmDet3dcLGFh7R7zTpi1pw75TJqN3oSp",
    ],
  ]);
  const [lookup, join] = runs;
  assertEquals(lookup.code, 1, lookup.stderr);
  const lookupError = lookup.stderr.trim().split("\n").at(-1)!;
  assertMatch(
    lookupError,
    /^meshmeet lookup: Cannot reach the control API at http:\/\/127\.0\.0\.1:9/,
  );
  assert(!lookup.stderr.includes("maple"), "the code must not be printed");
  assertEquals(join.code, 1, join.stderr);
  assertMatch(join.stderr.trim().split("\n").at(-1)!, /^meshmeet join: .*invitation code/i);
});
