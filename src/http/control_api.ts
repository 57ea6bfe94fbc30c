/**
 * `createControlApi()`: the Hono app that lets an operator or a local application see
 * and steer the meshmeet node of this process.
 *
 * @module
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { routePath } from "hono/route";
import { streamSSE } from "hono/streaming";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import denoJson from "../../deno.json" with { type: "json" };
import type { BootstrapNode } from "../bootstrap_node.ts";
import {
  BootstrapError,
  FrameTooLargeError,
  InvalidInvitationCodeError,
  MeetingClosedError,
  MeshmeetError,
  PeerNotFoundError,
} from "../errors.ts";
import { type ComponentLogger, type Logger, silentLogger } from "../logger.ts";
import { Meeting, type MeetingEventMap, type Participant } from "../meeting.ts";
import type { MessageData } from "../message_codec.ts";
import { runtimeName } from "../runtime/process.ts";
import { deriveTopicKeys } from "../topic.ts";
import { dhtState, MeshmeetMetrics, peerConnectionOf } from "./metrics.ts";
import { PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";
import {
  ErrorSchema,
  EventsQuerySchema,
  JoinBodySchema,
  LeaveResultSchema,
  MeetingSchema,
  MeetingSummarySchema,
  ParticipantSchema,
  PeerIdParamSchema,
  SendBodySchema,
  SendResultSchema,
  StatusSchema,
  TopicIdSchema,
  TopicLookupSchema,
  TopicQuerySchema,
} from "./schemas.ts";
import { lookupTopic } from "./topic_lookup.ts";

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

class _ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ControlApiError";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

const STATUS_CODES: Record<number, string> = {
  400: "invalid_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
};

function _normalize(target: ControlTarget): ControlNode {
  if (target instanceof Meeting) return { meetings: new Map([[target.topicId, target]]) };
  if (target !== null && typeof target === "object") {
    if ("meetings" in target && target.meetings instanceof Map) return target as ControlNode;
    if ("libp2p" in target && "peerId" in target && "stop" in target) {
      return { bootstrap: target as BootstrapNode, meetings: new Map() };
    }
  }
  throw new TypeError(
    "Cannot create control API: target must be a BootstrapNode, a Meeting or " +
      "{ bootstrap?, meetings: Map<topicId, Meeting>, join? }",
  );
}

async function _sameToken(given: string, expected: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(given)),
    crypto.subtle.digest("SHA-256", enc.encode(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

const PRIVATE_IP =
  /^\/ip4\/(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|0\.)|^\/ip6\/(::1?\/|f[cd]|fe80)/i;

function _dht(libp2p: BootstrapNode["libp2p"] | Meeting["libp2p"]) {
  return dhtState(libp2p.services.dht);
}

function _iceUrls(servers: readonly RTCIceServer[] | undefined): string[] {
  const urls: string[] = [];
  for (const s of servers ?? []) {
    for (const u of Array.isArray(s.urls) ? s.urls : [s.urls]) urls.push(String(u));
  }
  return urls;
}

function _self(meeting: Meeting) {
  const self = meeting.self;
  const stun = self.stun;
  return {
    peerId: self.peerId,
    name: self.name,
    joinedAt: self.joinedAt,
    addresses: self.addresses,
    publicAddress: self.publicAddress ?? null,
    stun: stun
      ? {
        status: stun.status,
        ...(stun.address ? { address: stun.address } : {}),
        ...(stun.server ? { server: stun.server } : {}),
        ...(stun.error ? { error: stun.error } : {}),
      }
      : null,
    iceServers: _iceUrls(self.iceServers),
  };
}

function _summary(meeting: Meeting): z.infer<typeof MeetingSummarySchema> {
  return {
    topicId: meeting.topicId,
    self: _self(meeting),
    participantCount: meeting.participants.length,
    dht: _dht(meeting.libp2p),
    connections: meeting.libp2p.getConnections().length,
  };
}

function _participant(meeting: Meeting, p: Participant) {
  const pc = peerConnectionOf(meeting, p.peerId);
  return {
    peerId: p.peerId,
    name: p.name,
    joinedAt: p.joinedAt,
    state: p.state,
    path: p.path ?? null,
    selectedCandidatePair: p.selectedCandidatePair ?? null,
    ice: pc
      ? {
        connectionState: String(pc.connectionState),
        iceConnectionState: String(pc.iceConnectionState),
        iceGatheringState: String(pc.iceGatheringState),
        signalingState: String(pc.signalingState),
      }
      : null,
    direction: p.direction,
    rtt: p.rtt ?? null,
    lastSeen: p.lastSeen,
    discoveredAt: p.discoveredAt,
    connectedAt: p.connectedAt,
    unacknowledged: p.unacknowledged,
  };
}

function _base64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function _toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function _describeIssues(
  error: { issues: { path: PropertyKey[]; message: string }[] },
  target: string,
): string {
  const where = target === "json" ? "body" : target === "param" ? "path" : target;
  return `Invalid request ${where}: ` + error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(String).join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  }).join("; ");
}

const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, {
    description: {
      400: "Bad input (says what was wrong)",
      401: "No bearer token",
      403: "Wrong token, or no token configured",
      404: "Unknown meeting, participant or route",
      405: "Not available on this node",
      409: "Conflicts with the node's state",
      413: "Body or message too large",
      415: "Body is not JSON",
      502: "An upstream (bootstrap node, DHT) failed",
    }[s] ?? "Error",
    content: { "application/json": { schema: ErrorSchema } },
  }]));

const bearer = [{ bearerAuth: [] }];
const TopicParams = z.object({ topicId: TopicIdSchema });
const ParticipantParams = z.object({ topicId: TopicIdSchema, peerId: PeerIdParamSchema });

/**
 * Create the control API of a meshmeet node: a Hono app with status, meetings and their
 * participants, topic lookup, join/leave/send (bearer token), an optional event stream,
 * Prometheus metrics, an OpenAPI document ({@linkcode OPENAPI_PATH}) and a docs page
 * ({@linkcode DOCS_PATH}). Serve it with `serveControlApi()` (binds 127.0.0.1) or mount
 * it in another Hono app.
 *
 * Bad input always gets a 4xx with `{ error: { code, message } }` saying what was wrong.
 * Invitation codes are accepted only by `POST /meetings`, used to derive keys, and never
 * stored, logged or returned.
 *
 * @param target A bootstrap node, a meeting, or a registry `{ bootstrap?, meetings, join? }`.
 * @param options Token, event stream, CORS, limits, logger.
 * @returns The Hono app, with `close()` to end event streams.
 * @throws {TypeError} When `target` is none of the above.
 *
 * @example Serve the control API of a bootstrap node
 * ```ts ignore
 * import { startBootstrapNode } from "@meshmeet/core";
 * import { createControlApi, serveControlApi } from "@meshmeet/core/http";
 *
 * await using boot = await startBootstrapNode();
 * const api = createControlApi({ bootstrap: boot, meetings: new Map() }, { token: "s3cret" });
 * await using server = await serveControlApi(api, { port: 8787 });
 * console.log(`${server.url}/docs`);
 * ```
 */
export function createControlApi(
  target: ControlTarget,
  options: ControlApiOptions = {},
): ControlApi {
  const node = _normalize(target);
  const startedAt = Date.now();
  const log: Logger = (options.logger ?? silentLogger).forComponent("meshmeet:http");
  const metrics = new MeshmeetMetrics({ version: VERSION, runtime: runtimeName });
  const closer = new AbortController();
  const hub = new EventTarget();
  const joining = new Set<string>();
  const maxBodyBytes = options.maxBodyBytes ?? 1_200_000;

  const sync = () => {
    for (const [topicId, meeting] of node.meetings) {
      if (meeting.left) node.meetings.delete(topicId);
      else metrics.instrument(meeting);
    }
  };
  sync();

  const findMeeting = (topicId: string): Meeting => {
    const meeting = node.meetings.get(topicId);
    if (!meeting || meeting.left) {
      if (meeting) node.meetings.delete(topicId);
      throw new _ApiError(
        404,
        "meeting_not_found",
        `No meeting with topic id ${topicId.slice(0, 12)}… on this node; GET /meetings lists them`,
      );
    }
    return meeting;
  };

  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) {
        return c.json({
          error: {
            code: "invalid_request",
            message: _describeIssues(result.error, (result as { target?: string }).target ?? ""),
          },
        }, 400);
      }
    },
  });

  app.onError((err, c) => {
    let status: ContentfulStatusCode;
    let code: string;
    let message = err.message;
    const headers: Record<string, string> = {};
    if (err instanceof _ApiError) {
      ({ status, code } = err);
      Object.assign(headers, err.headers);
    } else if (err instanceof HTTPException) {
      status = err.status as ContentfulStatusCode;
      code = STATUS_CODES[status] ?? "error";
      if (status === 400 && /JSON/i.test(message)) {
        code = "invalid_json";
        message = "Invalid request body: not valid JSON";
      }
    } else if (err instanceof InvalidInvitationCodeError) {
      [status, code] = [400, "invalid_code"];
    } else if (err instanceof PeerNotFoundError) {
      [status, code] = [404, "participant_not_found"];
    } else if (err instanceof FrameTooLargeError) {
      [status, code] = [413, "message_too_large"];
    } else if (err instanceof MeetingClosedError) {
      [status, code] = [409, "meeting_closed"];
    } else if (err instanceof BootstrapError) {
      [status, code] = [502, "bootstrap_unreachable"];
    } else {
      status = 500;
      code = "internal";
      message = `Internal error (${err.name}): ${err.message}`;
      log.error(`${c.req.method} ${routePath(c, -1)} failed`, err);
    }
    return c.json({ error: { code, message } }, status, headers);
  });

  app.notFound((c) =>
    c.json({
      error: {
        code: "not_found",
        message: `No ${c.req.method} route at this path; GET ${OPENAPI_PATH} lists the routes`,
      },
    }, 404)
  );

  app.use("*", async (c, next) => {
    const t0 = performance.now();
    await next();
    let route = routePath(c, -1);
    if (route === "*" || route === "/*") route = "unmatched";
    metrics.observeHttp(c.req.method, route, c.res.status);
    log(`${c.req.method} ${route} ${c.res.status} ${(performance.now() - t0).toFixed(1)} ms`);
  });
  if (options.corsOrigins !== undefined) {
    app.use(
      "*",
      cors({
        origin: options.corsOrigins,
        allowHeaders: ["Authorization", "Content-Type"],
        allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
      }),
    );
  }
  // Like hono/body-limit, but the request rebuilt after reading a body without a length
  // does not inherit the server's request signal (reading that makes Deno.serve warn).
  app.use("*", async (c, next) => {
    const raw = c.req.raw;
    if (raw.body === null || c.req.method === "GET" || c.req.method === "HEAD") return next();
    const tooLarge = () =>
      new _ApiError(
        413,
        "payload_too_large",
        `Request body is over the limit of ${maxBodyBytes} bytes`,
      );
    const length = raw.headers.get("content-length");
    if (length !== null && !raw.headers.has("transfer-encoding")) {
      if (Number(length) > maxBodyBytes) throw tooLarge();
      return next();
    }
    const reader = raw.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBodyBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
    const body = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.length;
    }
    c.req.raw = new Request(raw.url, {
      method: raw.method,
      headers: raw.headers,
      body: size > 0 ? body : null,
    });
    await next();
  });

  const requireToken: MiddlewareHandler = async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match) {
      throw new _ApiError(
        401,
        "unauthorized",
        "Missing bearer token: send `Authorization: Bearer <token>` (the token printed by " +
          "`meshmeet serve --http` / `meshmeet join --http`)",
        { "WWW-Authenticate": 'Bearer realm="meshmeet"' },
      );
    }
    if (options.token === undefined || options.token.length === 0) {
      throw new _ApiError(
        403,
        "writes_disabled",
        "This control API has no token configured, so nothing that changes state is allowed; " +
          "start it with a token",
      );
    }
    if (!await _sameToken(match[1], options.token)) {
      throw new _ApiError(403, "forbidden", "Wrong bearer token");
    }
    await next();
  };

  const requireJson: MiddlewareHandler = async (c, next) => {
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
      throw new _ApiError(
        415,
        "unsupported_media_type",
        `Request body must be JSON (Content-Type: application/json), got ${
          type ? JSON.stringify(type.slice(0, 80)) : "no Content-Type"
        }`,
      );
    }
    await next();
  };

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "The token printed by `meshmeet serve --http` or `meshmeet join --http`",
  });

  // ---- status -----------------------------------------------------------------------

  app.openapi(
    createRoute({
      method: "get",
      path: "/status",
      tags: ["node"],
      summary: "Status of this node",
      description: "Peer ids, addresses, DHT mode and routing table size, STUN result, uptime.",
      responses: {
        200: {
          description: "Node status",
          content: { "application/json": { schema: StatusSchema } },
        },
      },
    }),
    (c) => {
      sync();
      const boot = node.bootstrap;
      const addresses = boot ? boot.libp2p.getMultiaddrs().map(String) : [];
      return c.json({
        version: VERSION,
        runtime: runtimeName,
        startedAt,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 100) / 10,
        node: boot
          ? {
            role: "bootstrap" as const,
            peerId: boot.peerId,
            addresses,
            publicAddresses: addresses.filter((a) => !PRIVATE_IP.test(a)),
            dht: _dht(boot.libp2p),
            connections: boot.libp2p.getConnections().length,
            startedAt: boot.startedAt,
          }
          : null,
        meetings: [...node.meetings.values()].map(_summary),
        canJoin: node.join !== undefined,
        events: options.events === true,
      }, 200);
    },
  );

  // ---- meetings ---------------------------------------------------------------------

  app.openapi(
    createRoute({
      method: "get",
      path: "/meetings",
      tags: ["meetings"],
      summary: "Meetings of this node",
      responses: {
        200: {
          description: "The meetings, by topic id",
          content: {
            "application/json": {
              schema: MeetingSummarySchema.array().openapi("MeetingList"),
            },
          },
        },
      },
    }),
    (c) => {
      sync();
      return c.json([...node.meetings.values()].map(_summary), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/meetings/{topicId}",
      tags: ["meetings"],
      summary: "One meeting with its participants",
      request: { params: TopicParams },
      responses: {
        200: {
          description: "The meeting",
          content: { "application/json": { schema: MeetingSchema } },
        },
        ...errorResponses(400, 404),
      },
    }),
    (c) => {
      const meeting = findMeeting(c.req.valid("param").topicId);
      return c.json({
        ..._summary(meeting),
        participants: meeting.participants.map((p) => _participant(meeting, p)),
        stats: meeting.stats,
      }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/meetings/{topicId}/participants/{peerId}",
      tags: ["meetings"],
      summary: "One participant: state, path, candidate pair, ICE states, RTT, last seen",
      request: { params: ParticipantParams },
      responses: {
        200: {
          description: "The participant",
          content: { "application/json": { schema: ParticipantSchema } },
        },
        ...errorResponses(400, 404),
      },
    }),
    (c) => {
      const { topicId, peerId } = c.req.valid("param");
      const meeting = findMeeting(topicId);
      const p = meeting.participants.find((x) => x.peerId === peerId);
      if (!p) {
        throw new _ApiError(
          404,
          "participant_not_found",
          `${peerId} is not a participant of meeting ${topicId.slice(0, 12)}…`,
        );
      }
      return c.json(_participant(meeting, p), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/meetings",
      tags: ["meetings"],
      summary: "Join a meeting",
      description: "Needs the bearer token. The code derives the meeting's keys here and is " +
        "never stored, logged or returned.",
      security: bearer,
      middleware: [requireToken, requireJson] as const,
      request: {
        body: {
          required: true,
          content: { "application/json": { schema: JoinBodySchema } },
        },
      },
      responses: {
        201: {
          description: "Joined",
          content: { "application/json": { schema: MeetingSummarySchema } },
        },
        ...errorResponses(400, 401, 403, 405, 409, 413, 415, 502),
      },
    }),
    async (c) => {
      if (!node.join) {
        throw new _ApiError(
          405,
          "join_unsupported",
          "This node cannot join meetings (its control API was created without a join function)",
        );
      }
      const { code, name } = c.req.valid("json");
      const { topicId } = await deriveTopicKeys(code);
      sync();
      if (node.meetings.has(topicId) || joining.has(topicId)) {
        throw new _ApiError(
          409,
          "already_joined",
          `This node is already in meeting ${topicId.slice(0, 12)}…`,
        );
      }
      joining.add(topicId);
      let meeting: Meeting;
      try {
        meeting = await node.join(code, { name, signal: closer.signal });
      } catch (err) {
        if (err instanceof TypeError) throw new _ApiError(400, "invalid_request", err.message);
        if (err instanceof MeshmeetError && !(err instanceof InvalidInvitationCodeError)) {
          if (!(err instanceof BootstrapError)) {
            throw new _ApiError(502, "join_failed", err.message);
          }
        }
        throw err;
      } finally {
        joining.delete(topicId);
      }
      node.meetings.set(meeting.topicId, meeting);
      metrics.instrument(meeting);
      hub.dispatchEvent(new CustomEvent("meeting", { detail: meeting }));
      return c.json(_summary(meeting), 201, { Location: `/meetings/${meeting.topicId}` });
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/meetings/{topicId}",
      tags: ["meetings"],
      summary: "Leave a meeting",
      security: bearer,
      middleware: [requireToken] as const,
      request: { params: TopicParams },
      responses: {
        200: {
          description: "Left",
          content: { "application/json": { schema: LeaveResultSchema } },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { topicId } = c.req.valid("param");
      const meeting = findMeeting(topicId);
      await meeting.leave();
      node.meetings.delete(topicId);
      hub.dispatchEvent(new CustomEvent("meeting", { detail: meeting }));
      return c.json({ topicId, left: true as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/meetings/{topicId}/messages",
      tags: ["meetings"],
      summary: "Send a message to one participant or to everyone",
      description: "Needs the bearer token. Answers when every receiver acknowledged or " +
        "failed; failed deliveries are listed, not turned into an HTTP error.",
      security: bearer,
      middleware: [requireToken, requireJson] as const,
      request: {
        params: TopicParams,
        body: {
          required: true,
          content: { "application/json": { schema: SendBodySchema } },
        },
      },
      responses: {
        200: {
          description: "Who acknowledged and who failed",
          content: { "application/json": { schema: SendResultSchema } },
        },
        ...errorResponses(400, 401, 403, 404, 409, 413, 415),
      },
    }),
    async (c) => {
      const meeting = findMeeting(c.req.valid("param").topicId);
      const body = c.req.valid("json");
      let data: MessageData;
      if (body.text !== undefined) data = body.text;
      else if (body.base64 !== undefined) data = _base64(body.base64);
      else data = body.json as MessageData;
      const channel = body.channel ?? 0;
      if (body.to === undefined) {
        const { delivered, failed } = await meeting.broadcast(data, { channel });
        return c.json({
          delivered,
          failed: failed.map((f) => ({ peerId: f.peerId, error: f.error.message })),
        }, 200);
      }
      const participants = meeting.participants;
      let target = participants.find((p) => p.peerId === body.to);
      if (!target) {
        const named = participants.filter((p) => p.name === body.to);
        if (named.length > 1) {
          throw new _ApiError(
            409,
            "ambiguous_name",
            `${named.length} participants are named ${JSON.stringify(body.to)}; use a peer id`,
          );
        }
        target = named[0];
      }
      if (!target) {
        throw new _ApiError(
          404,
          "participant_not_found",
          `No participant with peer id or name ${JSON.stringify(body.to)} in meeting ` +
            `${meeting.topicId.slice(0, 12)}…`,
        );
      }
      try {
        await meeting.send(target.peerId, data, { channel });
        return c.json({ delivered: [target.peerId], failed: [] }, 200);
      } catch (err) {
        if (
          err instanceof FrameTooLargeError || err instanceof PeerNotFoundError ||
          err instanceof MeetingClosedError
        ) throw err;
        return c.json({
          delivered: [],
          failed: [{ peerId: target.peerId, error: (err as Error).message }],
        }, 200);
      }
    },
  );

  // ---- topics -----------------------------------------------------------------------

  app.openapi(
    createRoute({
      method: "get",
      path: "/topics/{topicId}",
      tags: ["topics"],
      summary: "Who announced under a topic id, as the DHT sees it",
      description: "Providers of the topic and, for each, whether its presence record is in " +
        "the DHT with its sequence number and expiry. Records stay encrypted: this is what a " +
        "non-member sees. Takes a topic id only, never an invitation code (derive the topic " +
        "id locally with `meshmeet lookup <code>`).",
      request: { params: TopicParams, query: TopicQuerySchema },
      responses: {
        200: {
          description: "What the DHT knows",
          content: { "application/json": { schema: TopicLookupSchema } },
        },
        ...errorResponses(400, 409),
      },
    }),
    async (c) => {
      const { topicId } = c.req.valid("param");
      const { timeoutMs } = c.req.valid("query");
      sync();
      const libp2p = node.bootstrap?.libp2p ??
        [...node.meetings.values()].find((m) => !m.left)?.libp2p;
      if (!libp2p) {
        throw new _ApiError(
          409,
          "no_dht_node",
          "This node has no DHT node to ask: it runs no bootstrap node and is in no meeting",
        );
      }
      const result = await lookupTopic(libp2p, topicId, {
        timeoutMs: timeoutMs ?? options.lookupTimeoutMs ?? 10_000,
        signal: closer.signal,
        onQuery: (query, ms, ok) => metrics.observeDhtQuery(query, ms, ok),
      });
      return c.json(result, 200);
    },
  );

  // ---- events -----------------------------------------------------------------------

  app.openapi(
    createRoute({
      method: "get",
      path: "/events",
      tags: ["events"],
      summary: "Server-sent events: joins, leaves, state changes, messages (opt-in)",
      description: "Needs the bearer token (messages are private). Each event's `data` is JSON " +
        "with the `topicId` and the event's details. Off unless the API was created with " +
        "`events: true` (`--events` on the CLI).",
      security: bearer,
      middleware: [requireToken] as const,
      request: { query: EventsQuerySchema },
      responses: {
        200: {
          description: "An event stream",
          content: { "text/event-stream": { schema: z.string() } },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    (c) => {
      if (options.events !== true) {
        throw new _ApiError(
          404,
          "events_disabled",
          "The event stream is off on this node; enable it with `events: true` (CLI: --events)",
        );
      }
      const { topic, types } = c.req.valid("query");
      const wanted = types
        ? new Set(types.split(",").map((t) => t.trim()).filter((t) => t.length > 0))
        : new Set(CONTROL_EVENT_TYPES);
      const unknown = [...wanted].filter((t) => !CONTROL_EVENT_TYPES.includes(t));
      if (unknown.length > 0) {
        throw new _ApiError(
          400,
          "invalid_request",
          `Unknown event type(s) ${unknown.map((t) => JSON.stringify(t)).join(", ")}; known: ` +
            CONTROL_EVENT_TYPES.join(", "),
        );
      }
      return streamSSE(c, async (stream) => {
        let id = 0;
        let queue = Promise.resolve();
        const send = (event: string, data: unknown) => {
          if (!wanted.has(event) && event !== "ready") return;
          const text = JSON.stringify(data);
          queue = queue.then(() => stream.writeSSE({ event, data: text, id: String(++id) }))
            .catch(() => {});
        };
        const subscriptions = new Map<Meeting, () => void>();
        const subscribe = (meeting: Meeting) => {
          if (subscriptions.has(meeting) || meeting.left) return;
          if (topic !== undefined && meeting.topicId !== topic) return;
          const topicId = meeting.topicId;
          const handlers: { [K in keyof MeetingEventMap]?: (e: MeetingEventMap[K]) => void } = {
            "peer:discovered": (e) => send("peer:discovered", { topicId, ...e.detail }),
            "peer:join": (e) => send("peer:join", { topicId, ..._participant(meeting, e.detail) }),
            "peer:leave": (e) => send("peer:leave", { topicId, ...e.detail }),
            "connection:state": (e) => send("connection:state", { topicId, ...e.detail }),
            "connection:failed": (e) =>
              send("connection:failed", {
                topicId,
                peerId: e.detail.peerId,
                name: e.detail.name,
                error: e.detail.error.message,
              }),
            "handshake:failed": (e) =>
              send("handshake:failed", {
                topicId,
                peerId: e.detail.peerId,
                error: e.detail.error.message,
              }),
            "message": (e) => {
              const d = e.detail;
              const body = typeof d.data === "string"
                ? { text: d.data }
                : d.data instanceof Uint8Array
                ? { base64: _toBase64(d.data) }
                : { json: d.data };
              send("message", { topicId, from: d.from, name: d.name, channel: d.channel, ...body });
            },
          };
          for (const [type, handler] of Object.entries(handlers)) {
            meeting.addEventListener(type, handler as EventListener);
          }
          subscriptions.set(meeting, () => {
            for (const [type, handler] of Object.entries(handlers)) {
              meeting.removeEventListener(type, handler as EventListener);
            }
          });
          send("meeting:join", { topicId, self: _self(meeting) });
        };
        const onMeeting = (e: Event) => {
          const meeting = (e as CustomEvent<Meeting>).detail;
          if (meeting.left) {
            subscriptions.get(meeting)?.();
            if (subscriptions.delete(meeting)) {
              send("meeting:leave", { topicId: meeting.topicId });
            }
          } else subscribe(meeting);
        };
        const resync = () => {
          sync();
          for (const meeting of node.meetings.values()) subscribe(meeting);
          for (const meeting of [...subscriptions.keys()]) {
            if (meeting.left) onMeeting(new CustomEvent("meeting", { detail: meeting }));
          }
        };
        send("ready", { topics: [...node.meetings.keys()], types: [...wanted] });
        resync();
        hub.addEventListener("meeting", onMeeting);
        const heartbeat = setInterval(() => {
          resync();
          queue = queue.then(() => stream.write(": keep-alive\n\n")).then(() => {}, () => {});
        }, options.heartbeatMs ?? 15_000);
        await new Promise<void>((resolve) => {
          if (closer.signal.aborted) return resolve();
          stream.onAbort(resolve);
          closer.signal.addEventListener("abort", () => resolve(), { once: true });
        });
        clearInterval(heartbeat);
        hub.removeEventListener("meeting", onMeeting);
        for (const unsubscribe of subscriptions.values()) unsubscribe();
        await queue;
      }) as never;
    },
  );

  // ---- metrics, OpenAPI, docs ------------------------------------------------------

  app.openapi(
    createRoute({
      method: "get",
      path: "/metrics",
      tags: ["node"],
      summary: "Metrics in Prometheus text format",
      responses: {
        200: {
          description: "Prometheus text exposition (0.0.4)",
          content: { "text/plain": { schema: z.string() } },
        },
      },
    }),
    async (c) => {
      sync();
      const text = await metrics.render({
        bootstrap: node.bootstrap,
        meetings: node.meetings.values(),
      });
      return c.text(text, 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
    },
  );

  app.doc31(OPENAPI_PATH, {
    openapi: "3.1.0",
    info: {
      title: "meshmeet control API",
      version: VERSION,
      description: "See and steer a meshmeet node: status, meetings and participants, topic " +
        "lookup, join/leave/send (bearer token), events, metrics. Errors are " +
        "`{ error: { code, message } }`.",
    },
    tags: [
      { name: "node", description: "This process" },
      { name: "meetings", description: "Meetings of this node" },
      { name: "topics", description: "What the DHT knows about a topic id" },
      { name: "events", description: "Live events (opt-in)" },
    ],
  });
  app.get(DOCS_PATH, Scalar({ url: OPENAPI_PATH, pageTitle: "meshmeet control API" }));
  app.get("/", (c) =>
    c.json({
      name: "meshmeet control API",
      version: VERSION,
      openapi: OPENAPI_PATH,
      docs: DOCS_PATH,
      status: "/status",
      metrics: "/metrics",
    }));

  return Object.assign(app, {
    node,
    metrics,
    close: () => closer.abort(),
  }) as unknown as ControlApi;
}
