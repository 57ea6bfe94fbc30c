/**
 * This machine, as the benchmark sees it: CPU time and RSS of a process from /proc,
 * loopback traffic counters, whether loopback-only network namespaces can be made, and a
 * description of the machine for the report.
 *
 * @module
 */
import { CHROMIUM_PATH } from "../tests/browser/_chromium.ts";

/** CPU time (user + system) and RSS of a process, from /proc. */
export interface ProcSample {
  /** CPU seconds used so far (user + system, this process only). */
  cpuSeconds: number;
  /** Resident set size in bytes. */
  rssBytes: number;
  /** Threads of the process (from /proc/PID/status). */
  threads: number;
  /** Monotonic time of the sample (performance.now()). */
  at: number;
}

const CLK_TCK = 100; // Linux USER_HZ

/**
 * Read CPU time and RSS of a process.
 *
 * @param pid Process id (`"self"` for this process).
 * @returns The sample, or undefined when the process is gone.
 */
export function sampleProc(pid: number | "self"): ProcSample | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is state (field 3); utime is field 14, stime field 15 (1-based).
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const rss = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN) * 1024;
    const threads = Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return {
      cpuSeconds: (utime + stime) / CLK_TCK,
      rssBytes: rss,
      threads,
      at: performance.now(),
    };
  } catch {
    return undefined;
  }
}

/** Where a process's resident memory is, from /proc/PID/smaps_rollup. */
export interface MemoryBreakdown {
  /** Resident set size in bytes. */
  rssBytes: number;
  /**
   * Resident anonymous pages: the memory the process allocated (JavaScript heap, native
   * heap, stacks), which only it uses and which the kernel cannot drop.
   */
  anonymousBytes: number;
  /**
   * Resident pages mapped from files (the runtime's executable, native add-ons, code
   * caches): clean pages the kernel can drop and that other processes running the same
   * runtime share.
   */
  fileBytes: number;
}

/**
 * Read the memory breakdown of a process.
 *
 * @param pid Process id (`"self"` for this process).
 * @returns The breakdown, or undefined when the process is gone.
 */
export function memoryBreakdown(pid: number | "self"): MemoryBreakdown | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN) * 1024;
    const rss = kb("Rss");
    return {
      rssBytes: rss,
      anonymousBytes: kb("Anonymous"),
      fileBytes: rss - kb("Anonymous"),
    };
  } catch {
    return undefined;
  }
}

/**
 * CPU share (in % of one core) between two samples.
 *
 * @param a Earlier sample.
 * @param b Later sample.
 * @returns Percent of one core.
 */
export function cpuPercent(a: ProcSample, b: ProcSample): number {
  const wall = (b.at - a.at) / 1000;
  return wall > 0 ? Math.round(((b.cpuSeconds - a.cpuSeconds) / wall) * 1000) / 10 : NaN;
}

/** Bytes and packets counted on the loopback interface (of this network namespace). */
export interface LoopbackCounters {
  /** Bytes sent on lo. */
  bytes: number;
  /** Packets sent on lo. */
  packets: number;
}

/**
 * Read the loopback counters from /proc/net/dev (per network namespace).
 *
 * @returns The counters, or undefined when unreadable.
 */
export function loopbackCounters(): LoopbackCounters | undefined {
  try {
    const text = Deno.readTextFileSync("/proc/net/dev");
    const line = text.split("\n").find((l) => l.trim().startsWith("lo:"));
    if (!line) return undefined;
    const f = line.split(":")[1].trim().split(/\s+/).map(Number);
    // receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets ...
    return { bytes: f[8], packets: f[9] };
  } catch {
    return undefined;
  }
}

let netnsOk: boolean | undefined;

/**
 * Whether `unshare --net` works here (root with CAP_SYS_ADMIN, iproute2 installed).
 *
 * @returns True when a loopback-only network namespace can be made.
 */
export async function netnsAvailable(): Promise<boolean> {
  if (netnsOk !== undefined) return netnsOk;
  try {
    const out = await new Deno.Command("unshare", {
      args: ["--net", "sh", "-c", "ip link set lo up && cat /proc/net/dev"],
      stdout: "piped",
      stderr: "null",
    }).output();
    netnsOk = out.success;
  } catch {
    netnsOk = false;
  }
  return netnsOk;
}

/**
 * Describe this machine (CPU model, cores, memory, kernel, runtimes).
 *
 * @returns A short description object.
 */
export async function machineInfo(): Promise<Record<string, string | number>> {
  const read = (p: string) => {
    try {
      return Deno.readTextFileSync(p);
    } catch {
      return "";
    }
  };
  const cpu = /model name\s*:\s*(.+)/.exec(read("/proc/cpuinfo"))?.[1] ?? "unknown";
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(read("/proc/meminfo"))?.[1] ?? 0);
  const osName = /PRETTY_NAME="([^"]+)"/.exec(read("/etc/os-release"))?.[1] ?? Deno.build.os;
  const run = async (cmd: string, args: string[]) => {
    try {
      const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
      return new TextDecoder().decode(o.stdout).trim().split("\n")[0];
    } catch {
      return "n/a";
    }
  };
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryGiB: Math.round(memKb / 1024 / 1024 * 10) / 10,
    os: osName,
    kernel: read("/proc/sys/kernel/osrelease").trim(),
    deno: Deno.version.deno,
    node: await run("node", ["--version"]),
    chromium: await run(CHROMIUM_PATH, ["--version"]),
    loadavg: read("/proc/loadavg").split(" ").slice(0, 3).join(" "),
  };
}
