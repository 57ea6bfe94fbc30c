/**
 * Generates `src/http/control_client.ts`, the typed client of the control API, from the
 * OpenAPI document the API serves (so the client's types are the server's schemas, written
 * out as plain interfaces that need neither zod nor Hono at run time).
 *
 *     deno task gen:client           # rewrite control_client.ts
 *     deno task gen:client --check   # exit 1 when it is out of date (tests/http run this)
 *
 * @module
 */
import { createControlApi } from "./control_api.ts";

type Schema = Record<string, unknown>;

const OUT = new URL("./control_client.ts", import.meta.url);

/** Generated types are prefixed, so `Meeting` (the API's view) is not mistaken for the class. */
function _name(ref: string): string {
  return "Api" + ref.slice(ref.lastIndexOf("/") + 1);
}

function _literal(v: unknown): string {
  return v === null ? "null" : JSON.stringify(v);
}

function _doc(text: unknown, indent: string): string {
  if (typeof text !== "string" || text.length === 0) return "";
  return `${indent}/** ${text.replaceAll("*/", "*\\/").replaceAll("\n", " ")} */\n`;
}

/** A TypeScript type for a JSON schema (the subset zod-openapi emits). */
export function tsType(schema: Schema | undefined, indent = ""): string {
  if (
    !schema ||
    Object.keys(schema).filter((k) => !["description", "example"].includes(k)).length === 0
  ) {
    return "unknown";
  }
  if (typeof schema.$ref === "string") return _name(schema.$ref);
  if (Array.isArray(schema.allOf)) {
    return (schema.allOf as Schema[]).map((s) => tsType(s, indent)).join(" & ");
  }
  for (const key of ["anyOf", "oneOf"] as const) {
    if (Array.isArray(schema[key])) {
      return [...new Set((schema[key] as Schema[]).map((s) => tsType(s, indent)))].join(" | ");
    }
  }
  if (Array.isArray(schema.enum)) return schema.enum.map(_literal).join(" | ");
  if ("const" in schema) return _literal(schema.const);
  const types = Array.isArray(schema.type) ? schema.type as string[] : [schema.type as string];
  return types.map((t) => {
    switch (t) {
      case "string":
        return "string";
      case "number":
      case "integer":
        return "number";
      case "boolean":
        return "boolean";
      case "null":
        return "null";
      case "array": {
        const item = tsType(schema.items as Schema, indent);
        return item.includes(" ") ? `(${item})[]` : `${item}[]`;
      }
      case "object": {
        const props = (schema.properties ?? {}) as Record<string, Schema>;
        const required = new Set((schema.required ?? []) as string[]);
        const inner = indent + "  ";
        const lines = Object.entries(props).map(([k, v]) =>
          `${_doc(v.description ?? `The \`${k}\` field.`, inner)}${inner}${
            /^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)
          }${required.has(k) ? "" : "?"}: ${tsType(v, inner)};`
        );
        const extra = schema.additionalProperties;
        if (extra && typeof extra === "object") {
          lines.push(`${inner}[key: string]: ${tsType(extra as Schema, inner)};`);
        }
        return lines.length ? `{\n${lines.join("\n")}\n${indent}}` : "Record<string, unknown>";
      }
      default:
        return "unknown";
    }
  }).join(" | ");
}

interface Operation {
  operationId: string;
  summary?: string;
  description?: string;
  parameters?: { name: string; in: string; required?: boolean; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
  security?: unknown[];
}

function _method(path: string, verb: string, op: Operation): string {
  const pathParams = (op.parameters ?? []).filter((p) => p.in === "path");
  const query = (op.parameters ?? []).filter((p) => p.in === "query");
  const body = op.requestBody?.content["application/json"]?.schema;
  const ok = Object.entries(op.responses).find(([s]) => s.startsWith("2"))!;
  const json = ok[1].content?.["application/json"]?.schema;
  const text = !json && ok[1].content?.["text/plain"];
  const result = json ? tsType(json, "  ") : text ? "string" : "Response";
  const args = [
    ...pathParams.map((p) => `${p.name}: string`),
    ...(body ? [`body: ${tsType(body, "  ")}`] : []),
    ...(query.length
      ? [`query: { ${query.map((q) => `${q.name}?: ${tsType(q.schema)}`).join("; ")} } = {}`]
      : []),
    "options: RequestOptions = {}",
  ];
  const url = "`" + path.replace(/\{(\w+)\}/g, "${encodeURIComponent($1)}") + "`";
  const kind = json ? "json" : text ? "text" : "response";
  const doc = [
    `  /**`,
    `   * ${op.summary ?? op.operationId} (\`${verb.toUpperCase()} ${path}\`${
      op.security?.length ? ", bearer token" : ""
    }).`,
    ...(op.description ? ["   *", `   * ${op.description.replaceAll("*/", "*\\/")}`] : []),
    `   *`,
    ...pathParams.map((p) => `   * @param ${p.name} Path parameter.`),
    ...(body ? [`   * @param body The request body.`] : []),
    ...(query.length ? [`   * @param query Query parameters.`] : []),
    `   * @param options Abort \`signal\`.`,
    `   * @returns The answer.`,
    `   * @throws {ControlApiError} With the API's \`code\` and message for a 4xx/5xx answer.`,
    `   */`,
  ].join("\n");
  return `${doc}
  ${op.operationId}(${args.join(", ")}): Promise<${result}> {
    return this.#call(${JSON.stringify(verb.toUpperCase())}, ${url}, ${
    body ? "body" : "undefined"
  }, ${query.length ? "query" : "undefined"}, ${
    JSON.stringify(kind)
  }, options) as Promise<${result}>;
  }`;
}

/** The client module's source for an OpenAPI document. */
export function generateClient(doc: Schema): string {
  const schemas = (doc.components as { schemas: Record<string, Schema> }).schemas;
  const types = Object.entries(schemas).map(([schemaName, schema]) => {
    const name = _name(schemaName);
    const t = tsType(schema);
    const doc = _doc(schema.description ?? `The control API's \`${schemaName}\` schema.`, "");
    return t.startsWith("{\n") && t.endsWith("}")
      ? `${doc}export interface ${name} ${t}`
      : `${doc}export type ${name} = ${t};`;
  });
  const methods: string[] = [];
  for (
    const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)
  ) {
    for (const [verb, op] of Object.entries(item)) {
      if (path === "/mcp") continue; // MCP clients use the MCP SDK, not this client
      methods.push(_method(path, verb, op));
    }
  }
  return `// Generated by src/http/_gen_client.ts from the control API's OpenAPI document.
// Do not edit: run \`deno task gen:client\`.
/**
 * A typed client of the meshmeet control API (\`@meshmeet/core/http\`, npm \`meshmeet/http\`):
 * one method per operation, named by its \`operationId\`, with the request and response types
 * of the OpenAPI document. It needs only \`fetch\`.
 *
 * @example Read the status and send a message
 * \`\`\`ts ignore
 * import { ControlApiClient } from "@meshmeet/core/http";
 * const api = new ControlApiClient("http://127.0.0.1:8787", { token: "s3cret-token-123" });
 * const status = await api.getStatus();
 * const topicId = status.meetings[0].topicId;
 * await api.sendMessage(topicId, { text: "hello" });
 * \`\`\`
 *
 * @module
 */

${types.join("\n\n")}

/** Options of {@linkcode ControlApiClient}. */
export interface ControlApiClientOptions {
  /** Bearer token for writes and the event stream. */
  token?: string;
  /** The \`fetch\` to use (e.g. \`api.request\` to talk to an in-memory app). */
  fetch?: (input: Request) => Response | Promise<Response>;
}

/** Per-call options. */
export interface RequestOptions {
  /** Abort the request. */
  signal?: AbortSignal;
}

/** A 4xx/5xx answer of the control API. */
export class ControlApiError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** The API's error code (e.g. \`meeting_not_found\`). */
  readonly code: string;
  /**
   * Create the error.
   *
   * @param status HTTP status.
   * @param code The API's error code.
   * @param message The API's message.
   */
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ControlApiError";
    this.status = status;
    this.code = code;
  }
}

/** The control API, typed (see the module doc). */
export class ControlApiClient {
  readonly #base: string;
  readonly #options: ControlApiClientOptions;

  /**
   * Create a client.
   *
   * @param baseUrl Where the API is served, e.g. \`http://127.0.0.1:8787\`.
   * @param options Token and \`fetch\`.
   */
  constructor(baseUrl: string | URL, options: ControlApiClientOptions = {}) {
    this.#base = String(baseUrl).replace(/\\/$/, "");
    this.#options = options;
  }

  async #call(
    method: string,
    path: string,
    body: unknown,
    query: Record<string, unknown> | undefined,
    kind: "json" | "text" | "response",
    options: RequestOptions,
  ): Promise<unknown> {
    const url = new URL(this.#base + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const headers = new Headers();
    if (this.#options.token) headers.set("Authorization", \`Bearer \${this.#options.token}\`);
    if (body !== undefined) headers.set("Content-Type", "application/json");
    const request = new Request(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: options.signal,
    });
    const res = await (this.#options.fetch ?? fetch)(request);
    if (kind === "response" && res.ok) return res;
    if (!res.ok) {
      const text = await res.text();
      let error = { code: "http_" + res.status, message: text.slice(0, 200) };
      try {
        error = JSON.parse(text).error ?? error;
      } catch { /* not JSON */ }
      throw new ControlApiError(res.status, error.code, error.message);
    }
    return kind === "json" ? await res.json() : await res.text();
  }

${methods.join("\n\n")}
}
`;
}

if (import.meta.main) {
  const api = createControlApi({ meetings: new Map() }, { token: "x", events: true });
  const doc = await (await api.request("http://127.0.0.1:8787/openapi.json")).json();
  const source = generateClient(doc);
  const fmt = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "ts", "-"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = fmt.stdin.getWriter();
  await writer.write(new TextEncoder().encode(source));
  await writer.close();
  const formatted = new TextDecoder().decode((await fmt.output()).stdout);
  if (Deno.args.includes("--check")) {
    const current = await Deno.readTextFile(OUT).catch(() => "");
    if (current !== formatted) {
      console.error("src/http/control_client.ts is out of date: run `deno task gen:client`");
      Deno.exit(1);
    }
  } else {
    await Deno.writeTextFile(OUT, formatted);
    console.error(`wrote ${OUT.pathname}`);
  }
}
