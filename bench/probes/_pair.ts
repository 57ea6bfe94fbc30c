/**
 * Shared set-up of the probes: a bootstrap node and two peer workers of a checkout (`root`),
 * joined to one meeting and linked.
 *
 * @module
 */
import type { Child } from "../_util.ts";

/** Two linked peer workers and what the probes need of them. */
export interface ProbePair {
  p: Child;
  q: Child;
  /** Q's peer id (P sends to it). */
  qId: string;
  /** Leave both meetings and stop every child. */
  close(): Promise<void>;
}

/**
 * Start a bootstrap worker and two peer workers of `root`, and join them to one meeting.
 *
 * @param root The checkout whose bench workers and `mod.ts` are measured.
 * @param options Join options of both peers.
 * @returns The linked pair.
 */
export async function startPair(
  root: string,
  options: Record<string, unknown>,
): Promise<ProbePair> {
  const { denoWorker } = (await import(`${root}/bench/_util.ts`)) as typeof import("../_util.ts");
  const { generateInvitationCode } =
    (await import(`${root}/mod.ts`)) as typeof import("../../mod.ts");
  const boot = denoWorker("bootstrap", "bootstrap.ts");
  const p = denoWorker("peer-P", "peer.ts");
  const q = denoWorker("peer-Q", "peer.ts");
  const close = async () => {
    await Promise.allSettled([p.call("leaveAll"), q.call("leaveAll")]);
    await Promise.allSettled([q, p, boot].map((c) => c.close()));
  };
  try {
    const bootstrap = (await boot.waitEvent("ready")).addresses as string[];
    const code = generateInvitationCode();
    await p.call("join", { code, bootstrap, options });
    const [qId] = await q.call<string[]>("join", { code, bootstrap, options });
    await Promise.all([p.call("waitConnected", { each: 1 }), q.call("waitConnected", { each: 1 })]);
    return { p, q, qId, close };
  } catch (err) {
    await close();
    throw err;
  }
}
