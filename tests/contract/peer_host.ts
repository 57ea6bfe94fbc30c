/**
 * A contract peer host behind standard input/output, for mixed meetings: one JSON command
 * per line in (`{"id": 1, "op": "join", "args": [code, name]}`), one JSON answer per line
 * out (`{"id": 1, "ok": true, "value": …}`). Uses only `node:` APIs, so the same file runs
 * in Deno (`deno run -A tests/contract/peer_host.ts`, from the sources) and on Node
 * (`node npm/test/contract/peer_host.js`, from the npm build).
 *
 * Arguments: `--bootstrap <multiaddr>` (repeatable) `--runtime <name>`. The host leaves all
 * meetings and exits when its input ends.
 *
 * @module
 */
import process from "node:process";
import { createInterface } from "node:readline";
import * as meshmeet from "../../mod.ts";
import { createLocalRuntime, type HostCommand, PeerHost } from "./local_runtime.ts";

const argv = process.argv.slice(2);
const bootstrap: string[] = [];
let runtimeName = "unknown";
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--bootstrap") bootstrap.push(argv[++i]);
  else if (argv[i] === "--runtime") runtimeName = argv[++i];
}

const host = new PeerHost(createLocalRuntime(runtimeName, meshmeet, {
  bootstrap,
  rtcConfiguration: { iceServers: [], bindAddress: "127.0.0.1" },
}));

const write = (line: unknown) => process.stdout.write(JSON.stringify(line) + "\n");
write({ id: 0, ok: true, value: "ready" });
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
const pending = new Set<Promise<void>>();
for await (const line of lines) {
  if (!line.trim()) continue;
  const command = JSON.parse(line) as HostCommand & { id: number };
  const task: Promise<void> = host.call(command).then(
    (value) => void write({ id: command.id, ok: true, value }),
    (err) => void write({ id: command.id, ok: false, error: `${err?.name}: ${err?.message}` }),
  ).finally(() => void pending.delete(task));
  pending.add(task);
}
await Promise.allSettled([...pending]);
await host.call({ op: "leaveAll" });
process.exit(0);
