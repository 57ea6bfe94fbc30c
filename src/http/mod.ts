/**
 * The meshmeet control API (`@meshmeet/core/http`): a Hono app that shows a node's
 * status, its meetings and participants, what the DHT knows about a topic id, and
 * Prometheus metrics, and that joins, leaves and sends for local applications (bearer
 * token). It describes itself in OpenAPI at `/openapi.json` with a docs page at `/docs`.
 *
 * This is the only part of meshmeet that loads Hono.
 *
 * @example Serve the control API of a participant
 * ```ts ignore
 * import { generateInvitationCode, joinMeeting, startBootstrapNode } from "@meshmeet/core";
 * import { createControlApi, serveControlApi } from "@meshmeet/core/http";
 *
 * await using boot = await startBootstrapNode();
 * await using meeting = await joinMeeting(generateInvitationCode(), {
 *   name: "Ada",
 *   bootstrap: boot.addresses,
 * });
 * const api = createControlApi(meeting, { token: crypto.randomUUID(), events: true });
 * await using server = await serveControlApi(api, { port: 0 });
 * const status = await (await fetch(`${server.url}/status`)).json();
 * console.log(status.meetings[0].topicId);
 * ```
 *
 * @module
 */
export {
  CONTROL_EVENT_TYPES,
  type ControlApi,
  type ControlApiOptions,
  type ControlJoinOptions,
  type ControlNode,
  type ControlTarget,
  createControlApi,
  DOCS_PATH,
  OPENAPI_PATH,
  VERSION,
} from "./control_api.ts";
export {
  type ControlApiServer,
  serveControlApi,
  type ServeControlApiOptions,
} from "./serve_control_api.ts";
export {
  type DhtQueryEvent,
  lookupTopic,
  type LookupTopicOptions,
  type TopicLookupDht,
  type TopicLookupNode,
  type TopicLookupResult,
  type TopicProviderInfo,
  type TopicRecordInfo,
} from "./topic_lookup.ts";
export { MeshmeetMetrics, TOPIC_LABEL_LENGTH, topicLabel } from "./metrics.ts";
export { PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";
export {
  ControlApiClient,
  type ControlApiClientOptions,
  ControlApiError,
} from "./control_client.ts";
export type * from "./control_client.ts"; // ApiStatus, ApiMeeting, ApiParticipant, …
export { MCP_PATH } from "./control_api.ts";
