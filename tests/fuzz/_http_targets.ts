/**
 * Fuzz targets of the control API: requests built from the routes it serves with arbitrary
 * methods, path segments, headers and bodies, in memory (`app.request()`) and as raw bytes
 * over a real socket (`serveControlApi()`). The property: every answer is a JSON 4xx or a
 * 2xx, never a 5xx (issue 12 found TRACE/TRACK → 500).
 */
import fc from "fast-check";
import { createControlApi, serveControlApi } from "../../src/http/mod.ts";
import type { Meeting } from "../../src/meeting.ts";
import { FakeMeeting, PEER_BOB, TOPIC_A } from "../http/_fake_meeting.ts";

export const FUZZ_TOKEN = "fuzz-token-0123456789";

/** A control API over two fake meetings (no network behind it). */
export function fuzzApi() {
  const meetings = new Map<string, Meeting>([[TOPIC_A, new FakeMeeting(TOPIC_A).asMeeting()]]);
  return createControlApi({ meetings }, { token: FUZZ_TOKEN, events: false });
}

const segment = fc.oneof(
  fc.constantFrom(TOPIC_A, PEER_BOB, "..", "%00", "%zz", "", "a".repeat(300)),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
);
const path = fc.oneof(
  fc.constantFrom(
    "/",
    "/status",
    "/meetings",
    "/metrics",
    "/openapi.json",
    "/events",
    `/meetings/${TOPIC_A}`,
    `/meetings/${TOPIC_A}/messages`,
    `/meetings/${TOPIC_A}/participants/${PEER_BOB}`,
  ),
  fc.tuple(fc.constantFrom("/meetings/", "/topics/", "/meetings/" + TOPIC_A + "/"), segment)
    .map(([a, b]) => a + b),
  fc.tuple(path0(), fc.string({ maxLength: 30 })).map(([p, q]) => `${p}?${encodeURI(q)}`),
);
function path0() {
  return fc.constantFrom("/meetings", "/events", "/status");
}
const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({
    code: fc.oneof(
      fc.string(),
      fc.constant("maple-harbor-sunset-meadow-pilot-4821"),
      fc.anything(),
    ),
    name: fc.anything(),
    to: fc.oneof(fc.constant(PEER_BOB), fc.string(), fc.anything()),
    text: fc.oneof(fc.string(), fc.anything()),
    json: fc.anything(),
    base64: fc.oneof(fc.base64String(), fc.string()),
    channel: fc.oneof(fc.integer(), fc.anything()),
  }, { requiredKeys: [] }),
).map((v) => JSON.stringify(v) ?? "null");

/** An arbitrary request in pieces. */
export const requestArb = fc.record({
  method: fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD", "FOO"),
  path,
  auth: fc.constantFrom("none", "good", "bad", "garbage"),
  contentType: fc.constantFrom(
    undefined,
    "application/json",
    "text/plain",
    "application/json; charset=utf-8",
    "multipart/form-data",
    "application/x-www-form-urlencoded",
  ),
  body: fc.oneof(fc.constant(undefined), jsonBody, fc.string({ maxLength: 200 })),
});

type Req = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

function headersOf(r: Req): Record<string, string> {
  const h: Record<string, string> = {};
  if (r.auth === "good") h.authorization = `Bearer ${FUZZ_TOKEN}`;
  if (r.auth === "bad") h.authorization = "Bearer wrong-token-000000000";
  if (r.auth === "garbage") h.authorization = "Basic \u00ff";
  if (r.contentType) h["content-type"] = r.contentType;
  return h;
}

/** In memory: `app.request()` answers below 500. */
export function inMemoryProperty(api = fuzzApi()) {
  return fc.asyncProperty(requestArb, async (r) => {
    const hasBody = r.body !== undefined && r.method !== "GET" && r.method !== "HEAD";
    let headers: Record<string, string>;
    try {
      headers = headersOf(r);
      new Headers(headers);
    } catch {
      return; // not a header value a client can send
    }
    const res = await api.request(r.path, {
      method: r.method,
      headers,
      body: hasBody ? r.body : undefined,
    });
    await res.arrayBuffer();
    if (res.status >= 500) {
      throw new Error(`${r.method} ${r.path} → ${res.status}`);
    }
  });
}

/** Raw request bytes: well-formed requests with arbitrary parts, and damaged ones. */
export const rawArb = fc.oneof(
  requestArb.map((r) => {
    const body = r.body ?? "";
    const headers = Object.entries(headersOf(r)).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    return `${r.method} ${r.path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}` +
      `content-length: ${
        new TextEncoder().encode(body).length
      }\r\nconnection: close\r\n\r\n${body}`;
  }),
  fc.tuple(
    fc.oneof(
      fc.constantFrom("TRACE", "TRACK", "CONNECT", "trace", "M-SEARCH", "PRI", "GET", "X"),
      fc.stringMatching(/^[A-Za-z!#$%&'*+.^_`|~-]{1,12}$/),
    ),
    path,
    fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9", ""),
    fc.array(fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 40 })), {
      maxLength: 4,
    }),
    fc.string({ maxLength: 100 }),
  ).map(([m, p, v, hs, b]) =>
    `${m} ${p} ${v}\r\nhost: 127.0.0.1\r\n${hs.map(([k, x]) => `${k}: ${x}\r\n`).join("")}` +
    `connection: close\r\n\r\n${b}`
  ),
  fc.string({ maxLength: 300 }).map((s) => s + "\r\n\r\n"),
);

/** Send raw bytes, read the status line of the answer (undefined: the server hung up). */
export async function rawStatus(port: number, raw: string): Promise<number | undefined> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed */ }
  }, 5000);
  try {
    await conn.write(new TextEncoder().encode(raw)).catch(() => {});
    const buf = new Uint8Array(64);
    let got = "";
    while (!got.includes("\r\n")) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      got += new TextDecoder().decode(buf.subarray(0, n));
    }
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
    return m ? Number(m[1]) : undefined;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** Over a real socket: raw requests never get a 5xx. Returns the property and the server. */
export async function socketProperty() {
  const server = await serveControlApi(fuzzApi(), { port: 0 });
  const statuses = new Map<number | "none", number>();
  const property = fc.asyncProperty(rawArb, async (raw) => {
    const status = await rawStatus(server.port, raw);
    statuses.set(status ?? "none", (statuses.get(status ?? "none") ?? 0) + 1);
    if (status !== undefined && status >= 500) {
      throw new Error(`${JSON.stringify(raw.slice(0, 200))} → ${status}`);
    }
  });
  return { property, server, statuses };
}
