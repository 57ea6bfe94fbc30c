/**
 * Whether the NAT lab can run here (Linux, root, the lab's programs), and how lab tests
 * react when it cannot: ignored with a printed reason, except under `CI=true`.
 *
 * @module
 */
import { which } from "./processes.ts";
import { NatLabError } from "./types.ts";

/** Result of {@linkcode natLabAvailable}. */
export interface NatLabAvailability {
  /** Whether a lab can be built here. */
  ok: boolean;
  /** Why not, with what to do about it. */
  reason?: string;
}

const REQUIRED_BINARIES = ["ip", "iptables", "turnserver"] as const;

/**
 * Checks whether a NAT lab can be built: root, and `ip`, `iptables` and `turnserver` on
 * the PATH.
 *
 * @returns `{ ok: true }`, or `{ ok: false, reason }` saying what is missing.
 *
 * @example Skip unless the lab can run
 * ```ts ignore
 * const { ok, reason } = natLabAvailable();
 * if (!ok) console.log(`NAT lab unavailable: ${reason}`);
 * ```
 */
export function natLabAvailable(): NatLabAvailability {
  if (Deno.build.os !== "linux") {
    return {
      ok: false,
      reason: `the NAT lab needs Linux network namespaces, not "${Deno.build.os}"`,
    };
  }
  let uid: number | null = null;
  try {
    uid = Deno.uid();
  } catch (error) {
    return { ok: false, reason: `cannot read the user id (${error}); run with --allow-sys` };
  }
  if (uid !== 0) {
    return { ok: false, reason: `the NAT lab needs root (uid is ${uid}); run the tests as root` };
  }
  const missing = REQUIRED_BINARIES.filter((name) => which(name) === undefined);
  if (missing.length > 0) {
    return {
      ok: false,
      reason: `missing ${missing.map((m) => `"${m}"`).join(", ")} on the PATH; run ` +
        ".ci/install_lab_packages.sh",
    };
  }
  return { ok: true };
}

/**
 * Decides whether NAT lab tests are ignored: when the lab cannot run, prints why (once)
 * and returns true, except under `CI=true`, where it returns false so the tests run and
 * fail with the reason instead of being skipped silently.
 *
 * @returns The value for `Deno.test({ ignore })`.
 *
 * @example Register a lab test
 * ```ts ignore
 * Deno.test({ name: "createNatLab() builds a lab", ignore: ignoreNatLab() }, async () => {
 *   await using _lab = await createNatLab();
 * });
 * ```
 */
export function ignoreNatLab(): boolean {
  const { ok, reason } = natLabAvailable();
  if (ok) return false;
  if (isCi()) return false;
  if (!warned) {
    warned = true;
    console.warn(`NAT lab tests ignored: ${reason} (under CI=true they fail instead)`);
  }
  return true;
}
let warned = false;

/**
 * Throws when the lab cannot run; call it first in a test that must not pass vacuously.
 *
 * @throws {NatLabError} With the reason from {@linkcode natLabAvailable}.
 *
 * @example Fail instead of skipping
 * ```ts ignore
 * requireNatLab();
 * ```
 */
export function requireNatLab(): void {
  const { ok, reason } = natLabAvailable();
  if (!ok) {
    throw new NatLabError(
      `Cannot build the NAT lab: ${reason}${isCi() ? " (CI=true: lab tests never skip)" : ""}`,
    );
  }
}

function isCi(): boolean {
  try {
    return Deno.env.get("CI") === "true";
  } catch {
    return false;
  }
}
