/**
 * A local coturn STUN server for tests, on loopback only. With `rfc5780`, it listens on two
 * addresses (127.0.0.1 and 127.0.0.2) and on a second port, which is what RFC 5780's
 * OTHER-ADDRESS and CHANGE-REQUEST need.
 */
import { stunBinding } from "../../src/runtime/stun_client.ts";

/** Where coturn is installed by Debian's package. */
export const TURNSERVER = "/usr/bin/turnserver";

/** Whether coturn is installed. */
export function hasTurnserver(): boolean {
  try {
    return Deno.statSync(TURNSERVER).isFile;
  } catch {
    return false;
  }
}

/** A running coturn. */
export interface Coturn extends AsyncDisposable {
  /** Its primary STUN port (on 127.0.0.1). */
  port: number;
  /** Stop it and wait for it to exit. */
  stop(): Promise<void>;
}

/** Start coturn on a random free-looking port and wait until it answers STUN. */
export async function startCoturn(options: { rfc5780: boolean }): Promise<Coturn> {
  let lastError = "";
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = 20_000 + 2 * Math.floor(Math.random() * 10_000);
    const args = [
      "-n",
      "--listening-ip=127.0.0.1",
      ...(options.rfc5780 ? ["--listening-ip=127.0.0.2"] : ["--no-rfc5780"]),
      `--listening-port=${port}`,
      `--alt-listening-port=${port + 1}`,
      "--relay-ip=127.0.0.1",
      `--min-port=${port + 2}`,
      `--max-port=${port + 40}`,
      "--no-tls",
      "--no-dtls",
      "--no-cli",
      "--no-auth",
      "--log-file=stdout",
      "--simple-log",
    ];
    const child = new Deno.Command(TURNSERVER, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = (async () => {
      const [out, err] = await Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
      ]);
      return out + err;
    })();
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    const stop = async () => {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch {
          // gone
        }
      }
      await status;
      await output;
    };
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !exited) {
      try {
        await stunBinding({ host: "127.0.0.1", port }, { timeoutMs: 300 });
        return { port, stop, [Symbol.asyncDispose]: stop };
      } catch {
        // not up yet
      }
    }
    await stop();
    lastError = (await output).split("\n").slice(-5).join("\n");
  }
  throw new Error(`coturn did not start:\n${lastError}`);
}
