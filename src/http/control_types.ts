/**
 * The public types and constants of the control API (what `createControlApi()` takes and
 * returns), apart from the app itself so route modules can use them without import cycles.
 *
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };
import type { BootstrapNode } from "../bootstrap_node.ts";
import type { ComponentLogger } from "../logger.ts";
import type { Meeting } from "../meeting.ts";
import type { MeshmeetMetrics } from "./metrics.ts";

/** The version reported by `GET /status` and `meshmeet_info`. */
export const VERSION: string = denoJson.version;

/** Options the control API passes to {@linkcode ControlNode.join}. */
export interface ControlJoinOptions {
  /** Display name from the request. */
  name?: string;
  /** Aborted when the control API closes. */
  signal?: AbortSignal;
}

/**
 * What a control API serves: a bootstrap node, the meetings of this process, and how to
 * join more. The API adds the meetings it joins to `meetings` and removes those it
 * leaves; the application may add and remove meetings too.
 */
export interface ControlNode {
  /** The bootstrap/relay node this process runs, if any. */
  bootstrap?: BootstrapNode;
  /** The meetings of this process, by topic id. */
  meetings: Map<string, Meeting>;
  /**
   * Join a meeting (`POST /meetings`). Without it, joining through the API answers 405.
   * A process that joins and leaves meetings this way for a long time should hold
   * `holdWebRtc()` while it serves (as `meshmeet serve --http` does): on Deno every meeting
   * left otherwise leaves a WebRTC factory behind.
   *
   * @param code The invitation code from the request (never stored or logged).
   * @param options Name and abort signal.
   * @returns The joined meeting.
   */
  join?: (code: string, options: ControlJoinOptions) => Promise<Meeting>;
}

/** What {@linkcode createControlApi} accepts: a registry, a bootstrap node or one meeting. */
export type ControlTarget = ControlNode | BootstrapNode | Meeting;

/** Options of {@linkcode createControlApi}. */
export interface ControlApiOptions {
  /**
   * Bearer token required by everything that changes state (join, leave, send) and by the
   * event stream (it carries message contents). Without a token those answer 403.
   * @default {undefined}
   */
  token?: string;
  /**
   * Serve `GET /events`, a server-sent event stream of joins, leaves, state changes and
   * messages.
   * @default {false}
   */
  events?: boolean;
  /**
   * Allowed CORS origins (`"*"` for any). CORS headers are not sent at all by default.
   * @default {undefined}
   */
  corsOrigins?: string | string[];
  /**
   * Largest request body in bytes; larger ones get 413.
   * @default {1_200_000}
   */
  maxBodyBytes?: number;
  /**
   * Time budget of a topic lookup in ms (`GET /topics/{topicId}`; `?timeoutMs=` overrides).
   * @default {10_000}
   */
  lookupTimeoutMs?: number;
  /**
   * Interval of the keep-alive comments on the event stream, in ms.
   * @default {15_000}
   */
  heartbeatMs?: number;
  /**
   * Serve MCP (Streamable HTTP) at `/mcp` for AI clients: the same tools as `meshmeet mcp`
   * (participants, send, broadcast, recent_messages, list_remote_tools, call_remote_tool).
   * Needs the bearer token like every write.
   * @default {true}
   */
  mcp?: boolean;
  /**
   * Logger; the API logs to the `meshmeet:http` component (method, route, status, time; never
   * bodies, tokens or codes).
   * @default {silentLogger}
   */
  logger?: ComponentLogger;
}

/**
 * The control API: a Hono app (an `OpenAPIHono` instance at run time, so it can be mounted
 * with `root.route("/meshmeet", api as unknown as Hono)`) plus the registry it serves.
 */
export interface ControlApi {
  /**
   * Answer a request (the app's fetch handler: give it to any server).
   *
   * @param request The request.
   * @returns The response.
   */
  fetch(request: Request): Response | Promise<Response>;
  /**
   * Answer a request in memory, without a server (tests, embedding).
   *
   * @param input A path such as `"/status"`, a URL or a request.
   * @param init Method, headers and body.
   * @returns The response.
   */
  request(input: RequestInfo | URL, init?: RequestInit): Response | Promise<Response>;
  /** The registry the app serves (add or remove meetings here). */
  readonly node: ControlNode;
  /** The metrics behind `GET /metrics`. */
  readonly metrics: MeshmeetMetrics;
  /** End open event streams and abort joins in flight. Idempotent. */
  close(): void;
}

/** Path of the OpenAPI document. */
export const OPENAPI_PATH = "/openapi.json";
/** Path of the interactive API reference. */
export const DOCS_PATH = "/docs";

/** Event types of `GET /events`. */
export const CONTROL_EVENT_TYPES: readonly string[] = Object.freeze([
  "meeting:join",
  "meeting:leave",
  "peer:discovered",
  "peer:join",
  "peer:leave",
  "connection:state",
  "connection:failed",
  "message",
  "handshake:failed",
]);
