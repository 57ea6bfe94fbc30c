/**
 * The tools of a meeting as one member sees them: who offers what (from the roster, without
 * calling anyone), calls by tool name routed to the nearest offering member with failover,
 * and plain SDK clients to one member.
 *
 * @module
 */
import { Client } from "./_sdk.ts";
import { type CallToolResult, ErrorCode, McpError } from "./_sdk.ts";
import type { Meeting, Participant } from "../meeting.ts";
import {
  DeliveryError,
  MeetingClosedError,
  PeerNotFoundError,
  ToolCallError,
  ToolNotFoundError,
} from "../errors.ts";
import { hubFor, type McpHub } from "./_hub.ts";
import { MeetingClientTransport } from "./transport.ts";
import type { AnnouncedTool } from "./wire.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** A tool offered by a member (one entry per member and tool). */
export interface OfferedTool extends AnnouncedTool {
  /** The offering member's peer id. */
  peerId: string;
  /** Its display name. */
  memberName: string;
  /** Last heartbeat round-trip time to it in ms, when known. */
  rtt: number | undefined;
}

/** What to look for with {@linkcode MeetingTools.filter}. */
export interface ToolFilter {
  /** Tool name, exactly, or a pattern. */
  name?: string | RegExp;
  /** Only this member's tools. */
  peerId?: string;
  /** Only tools with this schema digest (interchangeable implementations). */
  digest?: string;
  /** Only tools whose input has all these parameters. */
  accepts?: readonly string[];
}

/** Options of {@linkcode MeetingTools.call}. */
export interface CallOptions {
  /** Abort the call (rejects with `signal.reason`). */
  signal?: AbortSignal;
  /**
   * Time for the whole call, failovers included (ms).
   * @default {30_000}
   */
  timeoutMs?: number;
  /** Call only this member. */
  peerId?: string;
  /**
   * A member whose link is not `connected`, or that we have not heard from for this long
   * (ms), is given up on mid-call and the next one is tried. Heartbeats come every 2 s, so
   * the default allows two lost ones.
   * @default {6000}
   */
  suspectAfterMs?: number;
}

/** The answer of a routed call, and who gave it. */
export interface ToolCallOutcome {
  /** The tool's result (with `isError: true` when the tool itself reported an error). */
  result: CallToolResult;
  /** The member that answered. */
  peerId: string;
  /** Its display name. */
  memberName: string;
  /** Members tried before it, with why they did not answer. */
  attempts: { peerId: string; error: Error }[];
  /** Time from the call to the answer (ms). */
  ms: number;
}

const CLIENT_INFO = { name: "meshmeet", version: denoJson.version };

/** How often a call in progress checks on the member working on it (ms). */
const WATCHDOG_MS = 250;

/**
 * Whether to give up on the member working on a call, and why: it left, its link is not
 * `connected`, or nothing was heard from it (heartbeats included) for `suspectAfterMs`.
 * A pure decision on a participant snapshot and a clock, so it is tested without a network.
 *
 * @param peerId The member.
 * @param p Its participant snapshot (undefined when it is no participant any more).
 * @param now The time (ms since the epoch).
 * @param suspectAfterMs Silence that counts as gone.
 * @returns The error to fail the attempt with, or undefined to keep waiting.
 */
export function giveUpReason(
  peerId: string,
  p: Pick<Participant, "name" | "state" | "lastSeen"> | undefined,
  now: number,
  suspectAfterMs: number,
): Error | undefined {
  if (!p) return new PeerNotFoundError(`${peerId} left the meeting during the call`);
  if (p.state !== "connected") {
    return new DeliveryError(`the link to ${p.name} (${peerId}) is ${p.state}`);
  }
  if (now - p.lastSeen > suspectAfterMs) {
    return new DeliveryError(`nothing heard from ${p.name} (${peerId}) for ${suspectAfterMs} ms`);
  }
  return undefined;
}

/** Whether an error is the member's answer (a protocol error), rather than a failed link. */
function _isAnswer(err: unknown): boolean {
  if (!(err instanceof McpError)) return false;
  const code = (err as McpError).code;
  return code !== ErrorCode.ConnectionClosed && code !== ErrorCode.RequestTimeout;
}

function _matches(tool: OfferedTool, f: ToolFilter): boolean {
  if (f.name !== undefined) {
    if (typeof f.name === "string" ? tool.name !== f.name : !f.name.test(tool.name)) return false;
  }
  if (f.peerId !== undefined && tool.peerId !== f.peerId) return false;
  if (f.digest !== undefined && tool.digest !== f.digest) return false;
  return (f.accepts ?? []).every((p) => tool.params.includes(p));
}

/**
 * The tools offered in a meeting, as seen by one member. Fires `change` when a member's
 * offer arrives, changes or leaves with it.
 */
export class MeetingTools extends EventTarget implements AsyncDisposable {
  #meeting: Meeting;
  #hub: McpHub;
  #clients = new Map<string, Promise<Client>>();

  /**
   * Use {@linkcode meetingTools}.
   * @ignore
   */
  constructor(meeting: Meeting) {
    super();
    this.#meeting = meeting;
    this.#hub = hubFor(meeting);
    this.#hub.addEventListener("change", () => this.dispatchEvent(new Event("change")));
  }

  /**
   * Every tool every member offers us, nearest member first.
   *
   * @returns One entry per member and tool.
   */
  list(): OfferedTool[] {
    const rtt = new Map(this.#meeting.participants.map((p) => [p.peerId, p]));
    const out: OfferedTool[] = [];
    for (const offer of this.#hub.offers.values()) {
      const p = rtt.get(offer.peerId);
      if (!p) continue;
      for (const t of offer.tools) {
        out.push({ ...t, peerId: offer.peerId, memberName: p.name, rtt: p.rtt });
      }
    }
    return out.sort((a, b) => (a.rtt ?? Infinity) - (b.rtt ?? Infinity));
  }

  /**
   * The tools matching a filter (name, member, schema digest, parameters).
   *
   * @param filter What to look for.
   * @returns Matching entries, nearest member first.
   */
  filter(filter: ToolFilter): OfferedTool[] {
    return this.list().filter((t) => _matches(t, filter));
  }

  /**
   * Wait until some member offers a tool.
   *
   * @param name The tool.
   * @param options `signal` and `timeoutMs` (default 30 s).
   * @returns The offering entries.
   * @throws {ToolNotFoundError} When nobody offers it in time.
   */
  waitFor(
    name: string,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<OfferedTool[]> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.filter({ name });
        if (found.length > 0) done(() => resolve(found));
      };
      const timer = setTimeout(
        () =>
          done(() =>
            reject(
              new ToolNotFoundError(
                `No member offered tool "${name}" within ${timeoutMs} ms; check that a member ` +
                  "called offerTools() with it and that it allows us",
              ),
            )
          ),
        timeoutMs,
      );
      const onAbort = () => done(() => reject(options.signal!.reason));
      const done = (fn: () => void) => {
        clearTimeout(timer);
        this.removeEventListener("change", check);
        options.signal?.removeEventListener("abort", onAbort);
        fn();
      };
      if (options.signal?.aborted) return done(() => reject(options.signal!.reason));
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.addEventListener("change", check);
      check();
    });
  }

  /**
   * Call a tool by name: the nearest offering member (by RTT) is asked first; when it fails,
   * leaves or its link goes quiet, the next one is. A tool may thus run more than once when
   * a member fails after doing the work but before answering.
   *
   * @param name The tool.
   * @param args Its arguments.
   * @param options `signal`, `timeoutMs`, `peerId`, `suspectAfterMs`.
   * @returns The result and the member that answered.
   * @throws {ToolNotFoundError} When no member offers the tool to us.
   * @throws {ToolCallError} When every offering member failed (`attempts` says why) or time ran out.
   * @throws {McpError} When the member answered with an MCP error (e.g. an unknown tool).
   *
   * @example Call the nearest translator
   * ```ts ignore
   * const { result, memberName } = await meetingTools(meeting).call("translate", { text: "hallo", to: "en" });
   * ```
   */
  async call(
    name: string,
    args: Record<string, unknown> = {},
    options: CallOptions = {},
  ): Promise<ToolCallOutcome> {
    const started = performance.now();
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = started + timeoutMs;
    options.signal?.throwIfAborted();
    if (this.#meeting.left) {
      throw new MeetingClosedError("Cannot call a tool: the meeting has been left");
    }
    const candidates = [
      ...new Set(this.filter({ name, peerId: options.peerId }).map((t) => t.peerId)),
    ];
    if (candidates.length === 0) {
      throw new ToolNotFoundError(
        `Cannot call tool "${name}": no member of the meeting offers it to us` +
          (options.peerId ? ` (asked only ${options.peerId})` : "") +
          "; see meetingTools(meeting).list() or waitFor()",
      );
    }
    const attempts: { peerId: string; error: Error }[] = [];
    for (const peerId of candidates) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) break;
      const outcome = await this.#attempt(peerId, name, args, remaining, options);
      if ("error" in outcome) {
        attempts.push({ peerId, error: outcome.error });
        continue;
      }
      const memberName = this.#meeting.participants.find((p) => p.peerId === peerId)?.name ?? "";
      return {
        result: outcome.result,
        peerId,
        memberName,
        attempts,
        ms: performance.now() - started,
      };
    }
    const timedOut = performance.now() >= deadline;
    const tried = attempts.map((a) => `${a.peerId}: ${a.error.message}`).join("; ");
    throw new ToolCallError(
      `Tool call "${name}" ${
        timedOut ? `timed out after ${timeoutMs} ms` : "failed on every member offering it"
      }` +
        (tried ? ` (${tried})` : "") + "; try again later or raise timeoutMs",
      { attempts, cause: attempts.at(-1)?.error },
    );
  }

  async #attempt(
    peerId: string,
    name: string,
    args: Record<string, unknown>,
    timeout: number,
    options: CallOptions,
  ): Promise<{ result: CallToolResult } | { error: Error }> {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(options.signal!.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const suspectAfterMs = options.suspectAfterMs ?? 6000;
    const watchdog = setInterval(() => {
      const p = this.#meeting.participants.find((x) => x.peerId === peerId);
      const reason = giveUpReason(peerId, p, Date.now(), suspectAfterMs);
      if (reason) ctl.abort(reason);
    }, WATCHDOG_MS);
    try {
      const client = await this.#client(peerId, ctl.signal, timeout);
      const result = await client.callTool({ name, arguments: args }, undefined, {
        signal: ctl.signal,
        timeout,
      }) as CallToolResult;
      return { result };
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (!ctl.signal.aborted && _isAnswer(err)) throw err;
      this.#dropClient(peerId);
      return { error: ctl.signal.aborted ? ctl.signal.reason : err as Error };
    } finally {
      clearInterval(watchdog);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  #client(peerId: string, signal: AbortSignal, timeout: number): Promise<Client> {
    let client = this.#clients.get(peerId);
    if (!client) {
      client = this.connect(peerId, { signal, timeoutMs: timeout });
      this.#clients.set(peerId, client);
      client.then((c) => {
        const previous = c.onclose;
        c.onclose = () => {
          previous?.();
          if (this.#clients.get(peerId) === client) this.#clients.delete(peerId);
        };
      }, () => {
        if (this.#clients.get(peerId) === client) this.#clients.delete(peerId);
      });
    }
    return client;
  }

  #dropClient(peerId: string): void {
    const client = this.#clients.get(peerId);
    this.#clients.delete(peerId);
    client?.then((c) => c.close()).catch(() => {});
  }

  /**
   * A plain SDK `Client` connected to one member's offered server over the meeting link
   * (initialized; the caller owns it and closes it).
   *
   * @param peerId The member.
   * @param options `signal` and `timeoutMs` for the MCP handshake (default 30 s).
   * @returns The connected client.
   * @throws {PeerNotFoundError} When the peer is not a member we are connected to.
   *
   * @example List one member's tools with the SDK client
   * ```ts ignore
   * await using client = await meetingTools(meeting).connect(peerId);
   * console.log((await client.listTools()).tools.map((t) => t.name));
   * ```
   */
  async connect(
    peerId: string,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<Client> {
    const client = new Client({ ...CLIENT_INFO, name: `meshmeet:${this.#meeting.self.name}` });
    await client.connect(new MeetingClientTransport(this.#meeting, peerId), {
      signal: options.signal,
      timeout: options.timeoutMs ?? 30_000,
    });
    return client;
  }

  /** Close the clients `call()` keeps open. Idempotent. */
  async close(): Promise<void> {
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(clients.map((c) => c.then((x) => x.close(), () => {})));
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * The tools offered in a meeting (who offers what, filtering, routed calls, SDK clients).
 *
 * @param meeting A meeting we are a member of.
 * @returns A view that stays current as members come, go and change their offers.
 *
 * @example Find and call a tool
 * ```ts ignore
 * const tools = meetingTools(meeting);
 * await tools.waitFor("translate");
 * const { result, memberName } = await tools.call("translate", { text: "hallo", to: "en" });
 * ```
 */
export function meetingTools(meeting: Meeting): MeetingTools {
  return new MeetingTools(meeting);
}
