/**
 * `GET /events`: server-sent events of this node's meetings (opt-in, bearer token).
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import type { Meeting, MeetingEventMap } from "../../meeting.ts";
import { dataView, participantView, selfView } from "../../service/views.ts";
import { type ApiContext, ApiError, BEARER, errorResponses } from "../_context.ts";
import { CONTROL_EVENT_TYPES } from "../control_types.ts";
import { EventsQuerySchema } from "../schemas.ts";

/** Register the routes on the control API app. */
export function eventRoutes(app: OpenAPIHono, ctx: ApiContext): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/events",
      operationId: "streamEvents",
      tags: ["events"],
      summary: "Server-sent events: joins, leaves, state changes, messages (opt-in)",
      description: "Needs the bearer token (messages are private). Each event's `data` is JSON " +
        "with the `topicId` and the event's details. Off unless the API was created with " +
        "`events: true` (`--events` on the CLI).",
      security: BEARER,
      middleware: [ctx.requireToken] as const,
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
      if (ctx.options.events !== true) {
        throw new ApiError(
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
        throw new ApiError(
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
            "peer:join": (e) =>
              send("peer:join", { topicId, ...participantView(meeting, e.detail) }),
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
              send("message", {
                topicId,
                from: d.from,
                name: d.name,
                channel: d.channel,
                ...dataView(d.data),
              });
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
          send("meeting:join", { topicId, self: selfView(meeting.self) });
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
          ctx.sync();
          for (const meeting of ctx.node.meetings.values()) subscribe(meeting);
          for (const meeting of [...subscriptions.keys()]) {
            if (meeting.left) onMeeting(new CustomEvent("meeting", { detail: meeting }));
          }
        };
        send("ready", { topics: [...ctx.node.meetings.keys()], types: [...wanted] });
        resync();
        ctx.hub.addEventListener("meeting", onMeeting);
        const heartbeat = setInterval(() => {
          resync();
          queue = queue.then(() => stream.write(": keep-alive\n\n")).then(() => {}, () => {});
        }, ctx.options.heartbeatMs ?? 15_000);
        await new Promise<void>((resolve) => {
          if (ctx.closer.signal.aborted) return resolve();
          stream.onAbort(resolve);
          ctx.closer.signal.addEventListener("abort", () => resolve(), { once: true });
        });
        clearInterval(heartbeat);
        ctx.hub.removeEventListener("meeting", onMeeting);
        for (const unsubscribe of subscriptions.values()) unsubscribe();
        await queue;
      }) as never;
    },
  );
}
