import { assertEquals, assertInstanceOf, assertThrows } from "@std/assert";
import { type ArgSpec, parseArgs, UsageError } from "../../src/cli/args.ts";

const SPEC: ArgSpec = {
  values: ["name", "bind-address"],
  lists: ["bootstrap", "stun"],
  flags: ["json", "verbose"],
};

function usageError(argv: string[], message: string): UsageError {
  const error = assertThrows(() => parseArgs(argv, SPEC), UsageError, message);
  assertEquals(error.name, "UsageError");
  assertInstanceOf(error, Error);
  return error;
}

Deno.test("parseArgs() returns empty results for no arguments", () => {
  const args = parseArgs([], SPEC);
  assertEquals(args, { positional: [], values: {}, lists: {}, flags: new Set<string>() });
});

Deno.test("parseArgs() reads --key value and --key=value", () => {
  const args = parseArgs(["--name", "Ada Lovelace", "--bind-address=0.0.0.0"], SPEC);
  assertEquals(args.values, { name: "Ada Lovelace", "bind-address": "0.0.0.0" });
});

Deno.test("parseArgs() keeps everything after the first = in --key=value", () => {
  const args = parseArgs(["--name=a=b=c"], SPEC);
  assertEquals(args.values.name, "a=b=c");
  assertEquals(parseArgs(["--name="], SPEC).values.name, "");
});

Deno.test("parseArgs() keeps the last of a repeated single value", () => {
  assertEquals(parseArgs(["--name", "a", "--name=b"], SPEC).values.name, "b");
});

Deno.test("parseArgs() accepts a value that starts with a single dash", () => {
  assertEquals(parseArgs(["--name", "-x-"], SPEC).values.name, "-x-");
});

Deno.test("parseArgs() collects repeated list options and splits commas", () => {
  const args = parseArgs(
    [
      "--bootstrap",
      "/ip4/1.2.3.4/tcp/1",
      "--bootstrap=/dns4/a/tcp/2, /dns4/b/tcp/3",
      "--stun=s1,,s2,",
    ],
    SPEC,
  );
  assertEquals(args.lists, {
    bootstrap: ["/ip4/1.2.3.4/tcp/1", "/dns4/a/tcp/2", "/dns4/b/tcp/3"],
    stun: ["s1", "s2"],
  });
});

Deno.test("parseArgs() sets flags, including --help and -h", () => {
  const args = parseArgs(["--json", "code", "--verbose"], SPEC);
  assertEquals(args.flags, new Set(["json", "verbose"]));
  assertEquals(args.positional, ["code"]);
  assertEquals(parseArgs(["--help"], SPEC).flags, new Set(["help"]));
  assertEquals(parseArgs(["-h"], SPEC).flags, new Set(["help"]));
});

Deno.test("parseArgs() keeps positional arguments in order around options", () => {
  const args = parseArgs(["one", "--name", "n", "two", "--json", "three"], SPEC);
  assertEquals(args.positional, ["one", "two", "three"]);
  assertEquals(args.values.name, "n");
});

Deno.test("parseArgs() rejects an unknown option with UsageError", () => {
  usageError(["--nope"], "unknown option --nope");
  usageError(["--nope=1"], "unknown option --nope");
  usageError(["code", "--Name", "x"], "unknown option --Name");
});

Deno.test("parseArgs() rejects an option without its value with UsageError", () => {
  usageError(["--name"], "option --name needs a value");
  usageError(["--bootstrap"], "option --bootstrap needs a value");
  usageError(["--name", "--json"], "option --name needs a value");
});

Deno.test("parseArgs() rejects a flag given a value with UsageError", () => {
  usageError(["--json=true"], "option --json takes no value");
  usageError(["--help=1"], "option --help takes no value");
});

Deno.test("parseArgs() treats everything after -- as positional", () => {
  const args = parseArgs(["--json", "--", "--name", "--nope", "-h", "--"], SPEC);
  assertEquals(args.positional, ["--name", "--nope", "-h", "--"]);
  assertEquals(args.flags, new Set(["json"]));
  assertEquals(args.values, {});
});

Deno.test("parseArgs() does not take -- as the value of an option (UsageError)", () => {
  // "--" starts with "--", so it is not taken as a value: the option lacks one.
  usageError(["--name", "--"], "option --name needs a value");
});
