/**
 * `createControlApi()`: the Hono app that lets an operator or a local application see
 * and steer the meshmeet node of this process. It is composed here from the route modules
 * in `routes/` (status and metrics, meetings, messages, topics, events, MCP), which share
 * one {@linkcode ApiContext}.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { routePath } from "hono/route";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { BootstrapNode } from "../bootstrap_node.ts";
import {
  BootstrapError,
  FrameTooLargeError,
  InvalidInvitationCodeError,
  MeetingClosedError,
  PeerNotFoundError,
} from "../errors.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { Meeting } from "../meeting.ts";
import { runtimeName } from "../runtime/process.ts";
import { type ApiContext, ApiError, requireJson, tokenMiddleware } from "./_context.ts";
import {
  type ControlApi,
  type ControlApiOptions,
  type ControlNode,
  type ControlTarget,
  DOCS_PATH,
  OPENAPI_PATH,
  VERSION,
} from "./control_types.ts";
import { MeshmeetMetrics } from "./metrics.ts";
import { eventRoutes } from "./routes/events.ts";
import { MCP_PATH, mcpRoutes } from "./routes/mcp.ts";
import { meetingRoutes } from "./routes/meetings.ts";
import { messageRoutes } from "./routes/messages.ts";
import { statusRoutes } from "./routes/status.ts";
import { topicRoutes } from "./routes/topics.ts";

export {
  CONTROL_EVENT_TYPES,
  type ControlApi,
  type ControlApiOptions,
  type ControlJoinOptions,
  type ControlNode,
  type ControlTarget,
  DOCS_PATH,
  OPENAPI_PATH,
  VERSION,
} from "./control_types.ts";
export { MCP_PATH } from "./routes/mcp.ts";

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

function describeIssues(
  error: { issues: { path: PropertyKey[]; message: string }[] },
  target: string,
): string {
  const where = target === "json" ? "body" : target === "param" ? "path" : target;
  return `Invalid request ${where}: ` + error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(String).join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  }).join("; ");
}

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
  const log: Logger = (options.logger ?? silentLogger).forComponent("meshmeet:http");
  const metrics = new MeshmeetMetrics({ version: VERSION, runtime: runtimeName });
  const maxBodyBytes = options.maxBodyBytes ?? 1_200_000;
  const ctx: ApiContext = {
    node,
    options,
    log,
    metrics,
    closer: new AbortController(),
    hub: new EventTarget(),
    joining: new Set(),
    startedAt: Date.now(),
    sync() {
      for (const [topicId, meeting] of node.meetings) {
        if (meeting.left) node.meetings.delete(topicId);
        else metrics.instrument(meeting);
      }
    },
    findMeeting(topicId) {
      const meeting = node.meetings.get(topicId);
      if (!meeting || meeting.left) {
        if (meeting) node.meetings.delete(topicId);
        throw new ApiError(
          404,
          "meeting_not_found",
          `No meeting with topic id ${
            topicId.slice(0, 12)
          }… on this node; GET /meetings lists them`,
        );
      }
      return meeting;
    },
    requireToken: tokenMiddleware(options.token),
    requireJson,
  };
  ctx.sync();

  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) {
        return c.json({
          error: {
            code: "invalid_request",
            message: describeIssues(result.error, (result as { target?: string }).target ?? ""),
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
    if (err instanceof ApiError) {
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
      new ApiError(
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

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "The token printed by `meshmeet serve --http` or `meshmeet join --http`",
  });

  statusRoutes(app, ctx);
  meetingRoutes(app, ctx);
  messageRoutes(app, ctx);
  topicRoutes(app, ctx);
  eventRoutes(app, ctx);
  if (options.mcp !== false) mcpRoutes(app, ctx);

  app.doc31(OPENAPI_PATH, (c) => ({
    openapi: "3.1.0",
    info: {
      title: "meshmeet control API",
      version: VERSION,
      license: { name: "MIT", identifier: "MIT" },
      description: "See and steer a meshmeet node: status, meetings and participants, topic " +
        "lookup, join/leave/send (bearer token), events, metrics, MCP for AI clients. Errors " +
        "are `{ error: { code, message } }`.",
    },
    // The origin this document was fetched from: the API is served on a port of the user's
    // choosing, so there is no fixed URL to name.
    servers: [{ url: new URL(c.req.url).origin, description: "This node" }],
    tags: [
      { name: "node", description: "This process" },
      { name: "meetings", description: "Meetings of this node" },
      { name: "topics", description: "What the DHT knows about a topic id" },
      { name: "events", description: "Live events (opt-in)" },
      ...(options.mcp !== false
        ? [{ name: "mcp", description: "Model Context Protocol for AI clients" }]
        : []),
    ],
  }));
  app.get(DOCS_PATH, Scalar({ url: OPENAPI_PATH, pageTitle: "meshmeet control API" }));
  app.get("/", (c) =>
    c.json({
      name: "meshmeet control API",
      version: VERSION,
      openapi: OPENAPI_PATH,
      docs: DOCS_PATH,
      status: "/status",
      metrics: "/metrics",
      ...(options.mcp !== false ? { mcp: MCP_PATH } : {}),
    }));

  return Object.assign(app, {
    node,
    metrics,
    close: () => ctx.closer.abort(),
  }) as unknown as ControlApi;
}
