/**
 * `meshmeet serve` stops cleanly on a SIGTERM sent the moment it prints its addresses. It
 * used to listen for the signal only after printing them, so such a SIGTERM killed it
 * outright (exit code 143, nothing stopped) in 11 of 30 tries.
 */
import { assertEquals } from "@std/assert";

import { CLI } from "./_cli.ts";

Deno.test("meshmeet serve stopped by SIGTERM right after it prints its addresses exits 0 (10 times)", async () => {
  for (let i = 0; i < 10; i++) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "serve", "--json", "--listen", "/ip4/127.0.0.1/tcp/0"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    // Read raw chunks and signal on the first sight of the line, as a supervisor would.
    let out = "";
    const decoder = new TextDecoder();
    const reader = child.stdout.getReader();
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    try {
      while (!out.includes('"event":"listening"')) {
        const { value, done } = await reader.read();
        if (done) break;
        out += decoder.decode(value, { stream: true });
      }
      child.kill("SIGTERM");
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out += decoder.decode(value, { stream: true });
      }
    } finally {
      clearTimeout(timer);
      reader.releaseLock();
    }
    const status = await child.status;
    assertEquals(status.code, 0, `round ${i + 1}: serve exited with ${status.code}`);
    assertEquals(out.includes('"event":"stopped"'), true, `round ${i + 1}: it said it stopped`);
  }
});
