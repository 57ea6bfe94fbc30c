/**
 * Which labs exist: namespaces on the machine, and each lab's registration in
 * `/run/meshmeet-natlab/<prefix>.json` (owner pid and start time, directory, namespaces),
 * so that a new lab removes what a crashed process left behind and never touches a
 * running lab's namespaces.
 *
 * @module
 */
import { execCommand, isAlive, kill, KILL_GRACE_MS, runCommand, sleep } from "./processes.ts";

/** Where labs register themselves. */
export const STATE_DIR = "/run/meshmeet-natlab";
/** Prefixes of the labs this process has open. */
export const activePrefixes = new Set<string>();

/** Names of every network namespace on the machine. */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await runCommand(["ip", "netns", "list"]);
  return stdout.split("\n").map((line) => line.split(" ")[0]).filter(Boolean);
}

/** Kills every process inside the namespaces, then deletes them. */
export async function destroyNamespaces(namespaces: string[]): Promise<void> {
  if (namespaces.length === 0) return;
  const { stdout } = await execCommand(["ip", "-force", "-batch", "-"], {
    stdin: namespaces.map((ns) => `netns pids ${ns}`).join("\n") + "\n",
  });
  const pids = [...new Set(stdout.split(/\s+/).filter((p) => /^\d+$/.test(p)).map(Number))]
    .filter((pid) => pid !== Deno.pid);
  for (const pid of pids) kill(pid, "SIGTERM");
  const deadline = Date.now() + KILL_GRACE_MS;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(20);
  for (const pid of pids.filter(isAlive)) kill(pid, "SIGKILL");
  await execCommand(["ip", "-force", "-batch", "-"], {
    stdin: namespaces.map((ns) => `netns del ${ns}`).join("\n") + "\n",
  });
}

/** What `/run/meshmeet-natlab/<prefix>.json` holds. */
export interface Registration {
  pid: number;
  /** The owner's start time (field 22 of /proc/<pid>/stat), to tell a reused pid apart. */
  start?: string;
  dir?: string;
  namespaces?: string[];
}

/** A process's start time (field 22 of /proc/<pid>/stat), or undefined when it is gone. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that registered a lab still runs (and is the same process). */
export function ownerAlive(owner: Registration): boolean {
  return isAlive(owner.pid) && (owner.start === undefined || owner.start === startTime(owner.pid));
}

/** Reads a lab's registration, or undefined when there is none. */
export async function readRegistration(
  prefix: string,
): Promise<Registration | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(`${STATE_DIR}/${prefix}.json`));
  } catch {
    return undefined;
  }
}

/** Removes labs whose owning process is gone (a crashed test run). */
export async function reapStaleLabs(): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(STATE_DIR));
  } catch {
    return;
  }
  const existing = await listNamespaces();
  for (const entry of entries) {
    if (!entry.name.endsWith(".json")) continue;
    const prefix = entry.name.slice(0, -5);
    const owner = await readRegistration(prefix);
    // A live owner (this process included: another test worker may hold the lab) keeps it.
    if (owner && ownerAlive(owner)) continue;
    await destroyNamespaces(existing.filter((ns) => ns.startsWith(`${prefix}-`)));
    if (owner?.dir?.includes("meshmeet-natlab-")) {
      await Deno.remove(owner.dir, { recursive: true }).catch(() => {});
    }
    await Deno.remove(`${STATE_DIR}/${entry.name}`).catch(() => {});
  }
}

/** A prefix ("mm" + 4 hex digits) that no open or registered lab uses. */
export function randomPrefix(): string {
  while (true) {
    const bytes = crypto.getRandomValues(new Uint8Array(2));
    const prefix = `mm${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
    if (activePrefixes.has(prefix)) continue;
    try {
      Deno.statSync(`${STATE_DIR}/${prefix}.json`);
    } catch {
      return prefix;
    }
  }
}
