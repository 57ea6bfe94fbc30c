import { assertEquals } from "@std/assert";
import { readLines } from "../src/_lines.ts";

async function* chunks(...parts: Array<string | Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === "string" ? new TextEncoder().encode(p) : p;
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of readLines(source)) out.push(line);
  return out;
}

Deno.test("readLines() splits across chunks, drops \\n and \\r\\n, keeps a last unterminated line", async () => {
  assertEquals(await collect(chunks("a\nb", "c\r\n", "\n", "d")), ["a", "bc", "", "d"]);
  assertEquals(await collect(chunks()), []);
});

Deno.test("readLines() decodes a UTF-8 character split between chunks", async () => {
  const bytes = new TextEncoder().encode("é\n");
  assertEquals(await collect(chunks(bytes.subarray(0, 1), bytes.subarray(1))), ["é"]);
});
