/**
 * `GET /status` and `GET /metrics`: this node.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { runtimeName } from "../../runtime/process.ts";
import { type ApiContext, dhtOf, meetingSummary, OPEN, PRIVATE_IP } from "../_context.ts";
import { VERSION } from "../control_types.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../prometheus.ts";
import { StatusSchema } from "../schemas.ts";

/** Register the routes on the control API app. */
export function statusRoutes(app: OpenAPIHono, ctx: ApiContext): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/status",
      operationId: "getStatus",
      security: OPEN,
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
      ctx.sync();
      const boot = ctx.node.bootstrap;
      const addresses = boot ? boot.libp2p.getMultiaddrs().map(String) : [];
      return c.json({
        version: VERSION,
        runtime: runtimeName,
        startedAt: ctx.startedAt,
        uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 100) / 10,
        node: boot
          ? {
            role: "bootstrap" as const,
            peerId: boot.peerId,
            addresses,
            publicAddresses: addresses.filter((a) => !PRIVATE_IP.test(a)),
            dht: dhtOf(boot.libp2p),
            connections: boot.libp2p.getConnections().length,
            startedAt: boot.startedAt,
          }
          : null,
        meetings: [...ctx.node.meetings.values()].map(meetingSummary),
        canJoin: ctx.node.join !== undefined,
        events: ctx.options.events === true,
      }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/metrics",
      operationId: "getMetrics",
      security: OPEN,
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
      ctx.sync();
      const text = await ctx.metrics.render({
        bootstrap: ctx.node.bootstrap,
        meetings: ctx.node.meetings.values(),
      });
      return c.text(text, 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
    },
  );
}
