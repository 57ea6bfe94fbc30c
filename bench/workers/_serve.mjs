// The child side of Child (bench/_util.ts) for Node workers: `{id, op, args}` lines on
// stdin, `{id, ok, result | error}` lines on stdout; closing stdin ends the worker.
import process from "node:process";
import readline from "node:readline";

export function writeLine(value) {
  process.stdout.write(JSON.stringify(value) + "\n");
}

export function emit(event, data = {}) {
  writeLine({ event, ...data });
}

export function serve(handlers, onClose = () => {}) {
  const rl = readline.createInterface({ input: process.stdin });
  const inflight = new Set();
  rl.on("line", (line) => {
    if (!line.trim()) return;
    const { id, op, args } = JSON.parse(line);
    const p = (async () => {
      try {
        const handler = handlers[op];
        if (!handler) throw new Error(`unknown op ${op}`);
        writeLine({ id, ok: true, result: (await handler(args)) ?? null });
      } catch (err) {
        writeLine({ id, ok: false, error: err?.stack ?? String(err) });
      }
    })();
    inflight.add(p);
    p.finally(() => inflight.delete(p));
  });
  rl.on("close", async () => {
    await Promise.race([
      Promise.allSettled([...inflight]),
      new Promise((r) => setTimeout(r, 5000)),
    ]);
    try {
      await Promise.race([onClose(), new Promise((r) => setTimeout(r, 15000))]);
    } finally {
      process.exit(0);
    }
  });
}
