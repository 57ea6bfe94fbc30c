/**
 * Running meshmeet inside the NAT lab: a bootstrap node in the internet namespace and
 * participants in home namespaces, each a separate Deno process that speaks JSON lines.
 */
import { createNatLab, type HomeOptions, type LabHost, type NatLab } from "./lab.ts";
import { generateInvitationCode } from "../../mod.ts";
import { readLines } from "../../src/_lines.ts";

const here = new URL(".", import.meta.url).pathname;
const root = new URL("../..", import.meta.url).pathname;

/** One event line of a lab process. */
export type LabEvent = Record<string, unknown> & { event: string; at: number };

/** A process in the lab whose stdout is JSON lines. */
export class LabProcess {
  readonly name: string;
  readonly events: LabEvent[] = [];
  readonly child: Deno.ChildProcess;
  stderr = "";
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #reading: Promise<void>;

  constructor(
    lab: NatLab,
    host: LabHost,
    name: string,
    script: string,
    env: Record<string, string>,
    stdin = false,
  ) {
    this.name = name;
    this.child = lab.spawn(host, [Deno.execPath(), "run", "-A", `${here}${script}`], {
      env: { ...env, NO_COLOR: "1" },
      cwd: root,
      stdin: stdin ? "piped" : "null",
    });
    if (stdin) this.#writer = this.child.stdin.getWriter();
    this.#reading = Promise.all([this.#read(), this.#readErr()]).then(() => {});
  }

  async #read() {
    for await (const line of readLines(this.child.stdout)) {
      try {
        this.events.push(JSON.parse(line));
      } catch {
        this.stderr += `[stdout] ${line}\n`;
      }
    }
  }

  async #readErr() {
    for await (const chunk of this.child.stderr.pipeThrough(new TextDecoderStream())) {
      this.stderr += chunk;
    }
  }

  /** Resolve with the first event matching, or reject after `timeoutMs`. */
  async waitFor(
    pred: (e: LabEvent) => boolean,
    what: string,
    timeoutMs = 40_000,
  ): Promise<LabEvent> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.events.find(pred);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `${this.name}: timed out after ${timeoutMs} ms waiting for ${what}; events: ${
        this.events.map((e) => e.event).join(",")
      }\nstderr: ${this.stderr.slice(-2000)}`,
    );
  }

  async send(line: string) {
    await this.#writer!.write(new TextEncoder().encode(line + "\n"));
  }

  async stop() {
    try {
      if (this.#writer) {
        await this.send("quit").catch(() => {});
        await this.#writer.close().catch(() => {});
      } else this.child.kill("SIGTERM");
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 5000);
    await this.child.status;
    clearTimeout(timer);
    await this.#reading.catch(() => {});
  }
}

/** What a scenario sets up. */
export interface ScenarioOptions {
  homes: HomeOptions[];
  /** TURN on coturn (advertised by the bootstrap node). */
  turn: boolean;
  /** Host names of the two participants, e.g. ["a1", "b1"]. */
  peers: [string, string];
  ipv6?: boolean;
  /** Keep ICE on the hosts' IPv6 addresses. */
  bindIpv6?: boolean;
  allowRelay?: boolean;
}

/** A running scenario. */
export interface Scenario {
  lab: NatLab;
  boot: LabProcess;
  peers: [LabProcess, LabProcess];
}

/** Build the lab, start the bootstrap node and two participants of one meeting. */
export async function startScenario(options: ScenarioOptions): Promise<Scenario> {
  const lab = await createNatLab({
    homes: options.homes,
    turn: options.turn ? { user: "meshmeet", password: "natlab-secret" } : false,
    ipv6: options.ipv6 ?? false,
  });
  const procs: LabProcess[] = [];
  try {
    const listen = [`/ip4/${lab.internet.ip}/tcp/4001/ws`];
    if (lab.internet.ip6) listen.push(`/ip6/${lab.internet.ip6}/tcp/4001/ws`);
    const boot = new LabProcess(lab, lab.internet, "bootstrap", "_bootstrap.ts", {
      LISTEN: listen.join(","),
      ICE_SERVERS: JSON.stringify(lab.iceServers),
    });
    procs.push(boot);
    const listening = await boot.waitFor((e) => e.event === "listening", "the bootstrap node");
    const addresses = listening.addresses as string[];
    const bootstrap = options.bindIpv6 ? addresses.filter((a) => a.startsWith("/ip6")) : addresses;
    const code = generateInvitationCode();
    const peers = options.peers.map((hostName, i) => {
      const host = lab.hosts[hostName];
      const config = {
        code,
        name: `peer-${hostName}`,
        bootstrap,
        bindAddress: options.bindIpv6 ? host.ip6 : host.ip,
        allowRelay: options.allowRelay ?? true,
        // STUN and TURN come from the bootstrap node's advertisement.
        useBootstrapIceServers: true,
      };
      const p = new LabProcess(lab, host, `peer${i}:${hostName}`, "_peer.ts", {
        CONFIG: JSON.stringify(config),
        ...(Deno.env.get("LOG") ? { LOG: Deno.env.get("LOG")! } : {}),
      }, true);
      procs.push(p);
      return p;
    }) as [LabProcess, LabProcess];
    return { lab, boot, peers };
  } catch (err) {
    await Promise.allSettled(procs.map((p) => p.stop()));
    await lab.close();
    throw err;
  }
}

/** Stop everything: participants first, then the bootstrap node, then the lab. */
export async function stopScenario(s: Scenario): Promise<void> {
  await Promise.allSettled(s.peers.map((p) => p.stop()));
  await s.boot.stop().catch(() => {});
  await s.lab.close();
}

/** Both peers' `peer:join` events. */
export async function bothJoined(s: Scenario, timeoutMs = 40_000): Promise<[LabEvent, LabEvent]> {
  return await Promise.all(
    s.peers.map((p) => p.waitFor((e) => e.event === "peer:join", "peer:join", timeoutMs)),
  ) as [LabEvent, LabEvent];
}

/** Send one message from peer 0 and wait until it is acknowledged. */
export async function exchange(s: Scenario, text: string, timeoutMs = 20_000): Promise<LabEvent> {
  await s.peers[0].send(`send ${text}`);
  const sent = await s.peers[0].waitFor(
    (e) => e.event === "sent" && e.text === text,
    `ack of "${text}"`,
    timeoutMs,
  );
  await s.peers[1].waitFor((e) => e.event === "message" && e.text === text, `"${text}"`, timeoutMs);
  return sent;
}

/** The pair types of a peer:join event, as "local/remote". */
export function pairOf(e: LabEvent): string {
  const pair = e.selectedCandidatePair as
    | { local: { type: string }; remote: { type: string } }
    | undefined;
  return pair ? `${pair.local.type}/${pair.remote.type}` : "none";
}
