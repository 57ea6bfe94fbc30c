/**
 * The control API over a real socket, spoken to in raw HTTP/1.1: request methods a fetch
 * `Request` cannot carry (`TRACE`, `TRACK`, `CONNECT`) get a JSON 405, never a 500 (issue 12
 * found `TRACE /status` → 500 "Method is forbidden"). Both server variants are tried: the
 * Deno one (`Deno.serve`) and the Node one (`node:http`, which Deno runs too).
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { createControlApi, serveControlApi } from "../../src/http/mod.ts";
import { serve as serveNode } from "../../src/runtime/http_server.node.ts";
import { FakeMeeting, TOPIC_A } from "./_fake_meeting.ts";
import type { Meeting } from "../../src/meeting.ts";

/** Send `raw` on a fresh TCP connection and read until the server closes it. */
export async function rawRequest(port: number, raw: string | Uint8Array): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(typeof raw === "string" ? new TextEncoder().encode(raw) : raw);
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(16384);
    const deadline = setTimeout(() => conn.close(), 5000);
    try {
      while (true) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) break;
        chunks.push(buf.slice(0, n));
        // One response is enough: stop at the end of a Content-Length body.
        const text = new TextDecoder().decode(concat(chunks));
        const head = text.indexOf("\r\n\r\n");
        const length = /^content-length: *(\d+)/im.exec(text.slice(0, head));
        if (head >= 0 && length && text.length >= head + 4 + Number(length[1])) break;
      }
    } finally {
      clearTimeout(deadline);
    }
    return new TextDecoder().decode(concat(chunks));
  } finally {
    try {
      conn.close();
    } catch { /* closed by the deadline */ }
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

function statusOf(response: string): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(response);
  assert(m, `not an HTTP response: ${JSON.stringify(response.slice(0, 200))}`);
  return Number(m[1]);
}

function api() {
  const meeting = new FakeMeeting(TOPIC_A).asMeeting();
  return createControlApi({ meetings: new Map<string, Meeting>([[TOPIC_A, meeting]]) }, {
    token: "raw-methods-token-123",
  });
}

const FORBIDDEN = ["TRACE", "TRACK", "CONNECT", "trace", "Track"];

Deno.test("serveControlApi() answers TRACE, TRACK and CONNECT with a JSON 405, never a 500", async () => {
  await using server = await serveControlApi(api(), { port: 0 });
  for (const method of FORBIDDEN) {
    for (const path of ["/status", "/meetings", `/meetings/${TOPIC_A}/messages`, "/nope"]) {
      const target = method.toUpperCase() === "CONNECT" ? "127.0.0.1:1" : path;
      const body = method === "TRACK" ? "x" : "";
      const response = await rawRequest(
        server.port,
        `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
      const status = statusOf(response);
      assert(status >= 400 && status < 500, `${method} ${target} → ${status}:\n${response}`);
      // Deno's HTTP layer refuses lowercase or CONNECT itself (400) before any handler;
      // whatever reaches the handler must be the API's own JSON 405.
      if (status === 405) {
        assertMatch(response, /content-type: application\/json/i);
        assertMatch(response, /"code":"method_not_allowed"/);
        assertMatch(response, /^allow: .*GET/im);
      }
    }
  }
  // The well-formed requests still work on the same server.
  const ok = await rawRequest(
    server.port,
    "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
  );
  assertEquals(statusOf(ok), 200);
  const trace = await rawRequest(
    server.port,
    "TRACE /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
  );
  assertEquals(statusOf(trace), 405, trace);
});

Deno.test("serve() of the Node variant answers forbidden methods with 405 instead of 500", async () => {
  let handled = 0;
  await using server = await serveNode(() => {
    handled++;
    return new Response("ok");
  }, { port: 0 });
  for (const method of ["TRACE", "TRACK"]) {
    const response = await rawRequest(
      server.port,
      `${method} /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    const status = statusOf(response);
    assert(status === 405 || status === 400, `${method} → ${status}:\n${response}`);
  }
  assertEquals(handled, 0);
  const ok = await rawRequest(
    server.port,
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
  );
  assertEquals(statusOf(ok), 200);
  assertEquals(handled, 1);
});
