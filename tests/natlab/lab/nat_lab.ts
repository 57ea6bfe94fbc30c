/**
 * The running lab: {@linkcode createNatLab} plans and builds it, and the {@linkcode NatLab}
 * it returns runs commands in its namespaces, cuts links, reads NAT mappings and tears
 * everything down.
 *
 * @module
 */
import { requireNatLab } from "./availability.ts";
import { coturnEndpoints, readCoturnLog, startCoturn } from "./coturn.ts";
import { type HomePlan, type LabPlan, planLab } from "./plan.ts";
import {
  errorMessage,
  execCommand,
  spawnInNamespace,
  terminate,
  type Tracked,
} from "./processes.ts";
import {
  activePrefixes,
  destroyNamespaces,
  listNamespaces,
  ownerAlive,
  readRegistration,
  reapStaleLabs,
  type Registration,
  startTime,
  STATE_DIR,
} from "./registry.ts";
import { readWanMappings, setLink } from "./router.ts";
import { createTopology } from "./topology.ts";
import {
  type ExecOptions,
  type ExecResult,
  type IceServer,
  type LabHost,
  type LabRouter,
  type NatLab,
  NatLabError,
  type NatLabOptions,
  type SpawnOptions,
  type WanMapping,
} from "./types.ts";

/** Default bound for building the lab and for `exec()`, in milliseconds. */
const DEFAULT_TIMEOUT = 30_000;

/**
 * Builds a NAT lab: namespaces, bridge, routers with NAT, hosts and coturn.
 *
 * @param options Homes, prefix, TURN credentials, IPv6, timeout.
 * @returns The running lab; close it with `close()` or `await using`.
 * @throws {TypeError} For invalid options.
 * @throws {NatLabError} When the lab cannot be built (everything built so far is removed).
 *
 * @example A cone and a symmetric home
 * ```ts ignore
 * await using lab = await createNatLab({
 *   homes: [{ name: "a", nat: "cone" }, { name: "b", nat: "symmetric", hosts: 2 }],
 * });
 * const child = lab.spawn(lab.hosts.a1, ["deno", "run", "-A", "node.ts"], {
 *   env: { BOOTSTRAP: lab.internetIp },
 * });
 * ```
 */
export async function createNatLab(options: NatLabOptions = {}): Promise<NatLab> {
  const plan = planLab(options);
  requireNatLab();
  const lab = new _Lab(plan);
  try {
    await lab._build(options.timeout ?? DEFAULT_TIMEOUT, options.signal);
  } catch (error) {
    await lab.close();
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof NatLabError || error instanceof TypeError) throw error;
    throw new NatLabError(`Cannot build the NAT lab "${plan.prefix}": ${errorMessage(error)}`, {
      cause: error,
    });
  }
  return lab;
}

class _Lab implements NatLab {
  readonly prefix: string;
  dir = "";
  readonly namespaces: readonly string[];
  readonly hosts: Readonly<Record<string, LabHost>>;
  readonly routers: Readonly<Record<string, LabRouter>>;
  readonly internet: LabHost;
  readonly internetIp: string;
  readonly backbone: LabHost;
  readonly stun: NatLab["stun"];
  readonly turn?: Required<IceServer>;
  readonly iceServers: IceServer[];

  #plan: LabPlan;
  #homes = new Map<string, HomePlan>();
  #children = new Set<Tracked>();
  #cutTimers = new Map<string, ReturnType<typeof setTimeout>>();
  #pending = new Set<Promise<unknown>>();
  #closing?: Promise<void>;
  #registered = false;
  /** Set once the prefix is ours: before that, teardown must not touch its namespaces. */
  #claimed = false;

  constructor(plan: LabPlan) {
    this.#plan = plan;
    this.prefix = plan.prefix;
    this.backbone = plan.backbone;
    this.internet = plan.internet;
    this.internetIp = plan.internet.ip;
    const hosts: Record<string, LabHost> = {};
    const routers: Record<string, LabRouter> = {};
    const namespaces = [plan.backbone.ns, plan.internet.ns];
    for (const home of plan.homes) {
      this.#homes.set(home.name, home);
      if (home.router) {
        routers[home.name] = home.router;
        namespaces.push(home.router.ns);
      }
      for (const host of home.hosts) {
        hosts[host.name] = host;
        namespaces.push(host.ns);
      }
    }
    this.hosts = hosts;
    this.routers = routers;
    this.namespaces = namespaces;
    const endpoints = coturnEndpoints(plan.backbone, plan.turn);
    this.stun = endpoints.stun;
    this.turn = endpoints.turn;
    this.iceServers = endpoints.iceServers;
  }

  // ---------------------------------------------------------------- build

  async _build(timeout: number, signal?: AbortSignal): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new NatLabError(
            `Cannot build the NAT lab "${this.prefix}": timed out after ${timeout} ms`,
          ),
        ),
      timeout,
    );
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      signal?.throwIfAborted();
      await this.#claimPrefix();
      this.dir = await Deno.makeTempDir({ prefix: `meshmeet-natlab-${this.prefix}-` });
      await this.#register();
      await createTopology(this.#plan, this.namespaces, controller.signal);
      await startCoturn(
        this.#plan,
        this.dir,
        (ns, cmd, o) => this.#spawnTracked(ns, cmd, o),
        controller.signal,
      );
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async #claimPrefix(): Promise<void> {
    if (activePrefixes.has(this.prefix)) {
      throw new NatLabError(
        `Cannot build the NAT lab: prefix "${this.prefix}" is used by an open lab of this process; close it or pick another prefix`,
      );
    }
    await reapStaleLabs();
    const owner = await readRegistration(this.prefix);
    if (owner && ownerAlive(owner)) {
      throw new NatLabError(
        `Cannot build the NAT lab: prefix "${this.prefix}" is used by the running process ${owner.pid}; pick another prefix`,
      );
    }
    activePrefixes.add(this.prefix);
    this.#claimed = true;
    // Whatever is left with this prefix comes from a crashed run.
    await destroyNamespaces(
      (await listNamespaces()).filter((ns) => ns.startsWith(`${this.prefix}-`)),
    );
  }

  async #register(): Promise<void> {
    await Deno.mkdir(STATE_DIR, { recursive: true });
    const record: Registration = {
      pid: Deno.pid,
      start: startTime(Deno.pid),
      dir: this.dir,
      namespaces: [...this.namespaces],
    };
    await Deno.writeTextFile(`${STATE_DIR}/${this.prefix}.json`, JSON.stringify(record));
    this.#registered = true;
  }

  // ---------------------------------------------------------------- API

  async exec(
    target: string | { ns: string },
    cmd: string[],
    options: ExecOptions = {},
  ): Promise<ExecResult> {
    const ns = this.#ns(target);
    this.#assertOpen();
    if (cmd.length === 0) throw new TypeError("Cannot exec: the command is empty");
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new NatLabError(`Command "${cmd.join(" ")}" in "${ns}" timed out after ${timeout} ms`),
        ),
      timeout,
    );
    const onAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      options.signal?.throwIfAborted();
      const result = await execCommand(["ip", "netns", "exec", ns, ...cmd], {
        env: options.env,
        stdin: options.stdin,
        signal: controller.signal,
      });
      if (controller.signal.aborted) throw controller.signal.reason;
      return result;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  spawn(
    target: string | { ns: string },
    cmd: string[],
    options: SpawnOptions = {},
  ): Deno.ChildProcess {
    const ns = this.#ns(target);
    this.#assertOpen();
    if (cmd.length === 0) throw new TypeError("Cannot spawn: the command is empty");
    return this.#spawnTracked(ns, cmd, options).child;
  }

  async cutLink(home: string, ms?: number): Promise<void> {
    const plan = this.#home(home);
    this.#assertOpen();
    this.#clearCutTimer(home);
    await this.#track(setLink(this.#plan, plan, false));
    if (ms !== undefined) {
      if (!(ms >= 0)) {
        throw new RangeError(`Invalid link cut duration ${ms} ms (use a number >= 0)`);
      }
      this.#cutTimers.set(
        home,
        setTimeout(() => {
          this.#cutTimers.delete(home);
          if (!this.#closing) this.#track(setLink(this.#plan, plan, true)).catch(() => {});
        }, ms),
      );
    }
  }

  async restoreLink(home: string): Promise<void> {
    const plan = this.#home(home);
    this.#assertOpen();
    this.#clearCutTimer(home);
    await this.#track(setLink(this.#plan, plan, true));
  }

  async wanMapping(
    home: string,
    options: { protocol?: "udp" | "tcp" } = {},
  ): Promise<WanMapping[]> {
    const plan = this.#home(home);
    const router = plan.router;
    if (!router) {
      throw new TypeError(`Cannot read NAT mappings: home "${home}" has nat "none" and no router`);
    }
    this.#assertOpen();
    const protocol = options.protocol ?? "udp";
    return await readWanMappings(router, protocol, this.#plan.ipv6);
  }

  turnLog(): Promise<string> {
    return readCoturnLog(this.dir);
  }

  close(): Promise<void> {
    this.#closing ??= this.#teardown();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---------------------------------------------------------------- internals

  async #teardown(): Promise<void> {
    for (const timer of this.#cutTimers.values()) clearTimeout(timer);
    this.#cutTimers.clear();
    await Promise.allSettled([...this.#pending]);
    // 1. our own children: TERM, then KILL whatever ignores it; always reap
    const children = [...this.#children];
    await Promise.all(children.map((t) => terminate(t)));
    for (const t of children) {
      for (const name of t.piped) {
        const stream = t.child[name];
        if (!stream.locked) await stream.cancel().catch(() => {});
      }
    }
    this.#children.clear();
    if (!this.#claimed) return;
    // 2. anything else still inside our namespaces (grandchildren), then the namespaces
    try {
      const existing = new Set(await listNamespaces());
      await destroyNamespaces(this.namespaces.filter((ns) => existing.has(ns)));
    } catch {
      // best effort; the next createNatLab() reaps what is left
    }
    if (this.dir) await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    if (this.#registered) await Deno.remove(`${STATE_DIR}/${this.prefix}.json`).catch(() => {});
    activePrefixes.delete(this.prefix);
  }

  #spawnTracked(ns: string, cmd: string[], options: SpawnOptions): Tracked {
    const tracked = spawnInNamespace(ns, cmd, options);
    this.#children.add(tracked);
    return tracked;
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise);
    const done = () => this.#pending.delete(promise);
    promise.then(done, done);
    return promise;
  }

  #clearCutTimer(home: string): void {
    const timer = this.#cutTimers.get(home);
    if (timer !== undefined) clearTimeout(timer);
    this.#cutTimers.delete(home);
  }

  #home(name: string): HomePlan {
    const home = this.#homes.get(name);
    if (!home) {
      throw new TypeError(
        `Unknown home "${name}" in NAT lab "${this.prefix}" (homes: ${
          [...this.#homes.keys()].join(", ")
        })`,
      );
    }
    return home;
  }

  #ns(target: string | { ns: string }): string {
    const ns = typeof target === "string" ? target : target?.ns;
    if (typeof ns !== "string" || !this.namespaces.includes(ns)) {
      throw new TypeError(
        `Unknown namespace "${ns}": not part of NAT lab "${this.prefix}" (use lab.hosts.<name>.ns or a host object)`,
      );
    }
    return ns;
  }

  #assertOpen(): void {
    if (this.#closing) throw new NatLabError(`NAT lab "${this.prefix}" is closed`);
  }
}
