// Worker (Node >= 23): meshmeet peers from the npm build, for memory and CPU (part 5).
//   node peer_node.mjs <file URL of the installed package's esm/mod.js>
// Ops: join({ code, bootstrap, count }), waitConnected({ each }), stats(), leaveAll().
import process from "node:process";
import { serve } from "./_serve.mjs";

const { joinMeeting } = await import(process.argv[2]);
const meetings = [];
const LOOPBACK_RTC = { iceServers: [], bindAddress: "127.0.0.1" };

serve({
  async join({ code, bootstrap, count = 1 }) {
    for (let i = 0; i < count; i++) {
      meetings.push(
        await joinMeeting(code, {
          name: `n${meetings.length}`,
          bootstrap,
          rtcConfiguration: LOOPBACK_RTC,
        }),
      );
    }
    return meetings.map((m) => m.self.peerId);
  },
  async waitConnected({ each, timeoutMs = 60000 }) {
    const t0 = performance.now();
    while (meetings.some((m) => m.participants.length < each)) {
      if (performance.now() - t0 > timeoutMs) throw new Error("not connected in time");
      await new Promise((r) => setTimeout(r, 25));
    }
    return performance.now() - t0;
  },
  stats({ gc } = {}) {
    if (gc && globalThis.gc) globalThis.gc();
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      external: mem.external,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peers: meetings.length,
      participants: meetings.map((m) => m.participants.length),
    };
  },
  async leaveAll() {
    await Promise.allSettled(meetings.splice(0).map((m) => m.leave()));
  },
}, async () => {
  await Promise.allSettled(meetings.map((m) => m.leave()));
});
