/**
 * Bootstrap/relay servers as separate `meshmeet serve` processes, so that a test can kill
 * one for real (SIGKILL: no goodbye, the kernel resets its sockets) and start it again.
 */
import { CliProcess } from "../cli/_cli.ts";

/** One bootstrap server process. */
export interface ServerProcess {
  /** Its peer id. */
  peerId: string;
  /** Its multiaddrs (with `/p2p/<peer id>`). */
  addresses: string[];
  /** The process. */
  process: CliProcess;
  /** Whether it was killed. */
  killed: boolean;
}

/** Start one `meshmeet serve --json` process on loopback and wait for its addresses. */
export async function startServer(name: string, peers: string[] = []): Promise<ServerProcess> {
  const process = new CliProcess(name, [
    "serve",
    "--json",
    ...peers.flatMap((p) => ["--peer", p]),
  ]);
  const listening = await process.waitForEvent((e) => e.event === "listening", "listening", 30_000);
  return {
    peerId: listening.peerId as string,
    addresses: listening.addresses as string[],
    process,
    killed: false,
  };
}

/** Start `count` servers forming one DHT (each joins the first). */
export async function startServers(count: number): Promise<ServerProcess[]> {
  const first = await startServer("boot-0");
  const rest = await Promise.all(
    Array.from({ length: count - 1 }, (_, i) => startServer(`boot-${i + 1}`, first.addresses)),
  );
  return [first, ...rest];
}

/** Kill a server the hard way (SIGKILL) and wait until it is gone. */
export async function killServer(server: ServerProcess): Promise<void> {
  if (server.killed) return;
  server.killed = true;
  try {
    server.process.child.kill("SIGKILL");
  } catch {
    // already gone
  }
  await server.process.status;
}

/** Stop every server still running. */
export async function stopServers(servers: ServerProcess[]): Promise<void> {
  await Promise.all(servers.map(async (s) => {
    if (s.killed) {
      await s.process.stop(1000).catch(() => {});
      return;
    }
    s.killed = true;
    await s.process.stop(5000).catch(() => {});
  }));
}
