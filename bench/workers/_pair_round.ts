/**
 * One measured round between two meshmeet peers in one process, written against the
 * public API only and with erasable TypeScript only, so the same file runs in Deno (with
 * `mod.ts`) and on Node >= 23 (type stripping, with the npm build).
 *
 * Round "newcomer": A joins and settles; then B joins and, as soon as A is its
 * participant, sends one message and waits for the acknowledgement. Round "together":
 * both join at once (used for the dial histogram: fresh peers, one dial per round).
 *
 * The same newcomer round with A and B in two processes, as two people's machines would
 * have them: {@linkcode memberJoin} in one worker, {@linkcode newcomerRound} in another, then
 * {@linkcode memberLeave}.
 *
 * @module
 */

/** The participant fields the bench reads. */
export interface ParticipantLike {
  peerId: string;
  discoveredAt: number;
  connectedAt: number;
  direction: string;
  path?: string;
  selectedCandidatePair?: { local: { type: string }; remote: { type: string } };
}

/** The meeting surface the bench uses. */
export interface MeetingLike extends EventTarget {
  self: { peerId: string };
  participants: ParticipantLike[];
  stats: { joinTimings: Record<string, number>; dialAttempts: number; dialFailures: number };
  send(peerId: string, data: unknown): Promise<void>;
  leave(): Promise<void>;
}

/** The module surface the bench uses. */
export interface MeshmeetApi {
  joinMeeting(code: string, options: Record<string, unknown>): Promise<MeetingLike>;
  generateInvitationCode(): string;
}

/** Arguments of a round. */
export interface PairRoundArgs {
  bootstrap: string[];
  mode?: "newcomer" | "together";
  timeoutMs?: number;
}

/** What one side saw of the other. */
export interface SideView {
  peerId: string;
  joinStart: number;
  joinEnd: number;
  joinTimings: Record<string, number>;
  dialAttempts: number;
  dialFailures: number;
  other?: ParticipantLike;
}

/** Result of a round. */
export interface PairRoundResult {
  mode: string;
  ok: boolean;
  error?: string;
  /** From B's join start to the acknowledgement of its first message (ms). */
  newcomerMs?: number;
  /** From A's join start to the same acknowledgement (ms). */
  pairTotalMs?: number;
  /** B's join start to A being B's participant (ms). */
  joinToConnectedMs?: number;
  /** A became B's participant -> ack received (ms). */
  ackMs?: number;
  a: SideView;
  b: SideView;
}

const LOOPBACK_RTC = { iceServers: [], bindAddress: "127.0.0.1" };

function waitParticipant(
  m: MeetingLike,
  peerId: string,
  timeoutMs: number,
): Promise<ParticipantLike> {
  return new Promise((resolve, reject) => {
    const find = () => m.participants.find((p) => p.peerId === peerId);
    const done = (p: ParticipantLike | undefined, err?: Error) => {
      clearTimeout(timer);
      clearInterval(poll);
      m.removeEventListener("peer:join", check);
      if (p) resolve(p);
      else reject(err);
    };
    const check = () => {
      const p = find();
      if (p) done(p);
    };
    const timer = setTimeout(
      () => done(undefined, new Error(`no connection to ${peerId} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const poll = setInterval(check, 50);
    m.addEventListener("peer:join", check);
    check();
  });
}

function view(m: MeetingLike | undefined, joinStart: number, joinEnd: number, other?: string) {
  return {
    peerId: m?.self.peerId ?? "",
    joinStart,
    joinEnd,
    joinTimings: { ...(m?.stats.joinTimings ?? {}) },
    dialAttempts: m?.stats.dialAttempts ?? 0,
    dialFailures: m?.stats.dialFailures ?? 0,
    other: other ? m?.participants.find((p) => p.peerId === other) : undefined,
  };
}

/**
 * Run one round and leave both meetings.
 *
 * @param api joinMeeting and generateInvitationCode of the build under test.
 * @param args Bootstrap addresses and mode.
 * @returns Timings of both sides.
 */
export async function pairRound(api: MeshmeetApi, args: PairRoundArgs): Promise<PairRoundResult> {
  const mode = args.mode ?? "newcomer";
  const timeoutMs = args.timeoutMs ?? 20_000;
  const code = api.generateInvitationCode();
  const options = { bootstrap: args.bootstrap, rtcConfiguration: LOOPBACK_RTC };
  let a: MeetingLike | undefined;
  const side: NewcomerSide = { start: 0, end: 0 };
  let aStart = 0, aEnd = 0;
  try {
    if (mode === "newcomer") {
      aStart = Date.now();
      a = await api.joinMeeting(code, { ...options, name: "A" });
      aEnd = Date.now();
      const times = await newcomerJoins(api, code, options, a.self.peerId, timeoutMs, side);
      const b = side.meeting!;
      await waitParticipant(a, b.self.peerId, 5000).catch(() => undefined);
      return {
        mode,
        ok: true,
        ...times,
        pairTotalMs: times.newcomerMs + (side.start - aStart),
        a: view(a, aStart, aEnd, b.self.peerId),
        b: view(b, side.start, side.end, a.self.peerId),
      };
    }
    aStart = side.start = Date.now();
    const [ma, mb] = await Promise.all([
      api.joinMeeting(code, { ...options, name: "A" }).then((m) => {
        aEnd = Date.now();
        return m;
      }),
      api.joinMeeting(code, { ...options, name: "B" }).then((m) => {
        side.end = Date.now();
        return m;
      }),
    ]);
    a = ma;
    side.meeting = mb;
    await Promise.all([
      waitParticipant(ma, mb.self.peerId, timeoutMs),
      waitParticipant(mb, ma.self.peerId, timeoutMs),
    ]);
    return {
      mode,
      ok: true,
      a: view(a, aStart, aEnd, mb.self.peerId),
      b: view(mb, side.start, side.end, a.self.peerId),
    };
  } catch (err) {
    const b = side.meeting;
    return {
      mode,
      ok: false,
      error: (err as Error).message,
      a: view(a, aStart, aEnd, b?.self.peerId),
      b: view(b, side.start, side.end, a?.self.peerId),
    };
  } finally {
    await Promise.allSettled([a?.leave(), side.meeting?.leave()]);
  }
}

/** The newcomer of a round, filled in as it joins (for the error path and for leaving). */
interface NewcomerSide {
  meeting?: MeetingLike;
  start: number;
  end: number;
}

/**
 * The timed part of a newcomer round: B joins and, as soon as the member is its
 * participant, sends it one message and waits for the acknowledgement.
 */
async function newcomerJoins(
  api: MeshmeetApi,
  code: string,
  options: Record<string, unknown>,
  memberId: string,
  timeoutMs: number,
  side: NewcomerSide,
): Promise<{ newcomerMs: number; joinToConnectedMs: number; ackMs: number }> {
  side.start = Date.now();
  const p0 = performance.now();
  side.meeting = await api.joinMeeting(code, { ...options, name: "B" });
  side.end = Date.now();
  await waitParticipant(side.meeting, memberId, timeoutMs);
  const seen = performance.now();
  await side.meeting.send(memberId, "x");
  const t1 = performance.now();
  return { newcomerMs: t1 - p0, joinToConnectedMs: seen - p0, ackMs: t1 - seen };
}

/** The member that waits for newcomers in this process (two-process rounds). */
let member: { meeting: MeetingLike; start: number; end: number } | undefined;

/** What {@linkcode memberJoin} returns: the code to join with and who is waiting. */
export interface MemberJoined {
  code: string;
  peerId: string;
}

/**
 * Two-process round, first step: A joins a new meeting in this process and stays.
 *
 * @param api The build under test.
 * @param args Bootstrap addresses.
 * @returns The meeting's code and A's peer id.
 */
export async function memberJoin(
  api: MeshmeetApi,
  args: { bootstrap: string[] },
): Promise<MemberJoined> {
  if (member) throw new Error("a member is already waiting in this process");
  const code = api.generateInvitationCode();
  const start = Date.now();
  const meeting = await api.joinMeeting(code, {
    bootstrap: args.bootstrap,
    rtcConfiguration: LOOPBACK_RTC,
    name: "A",
  });
  member = { meeting, start, end: Date.now() };
  return { code, peerId: meeting.self.peerId };
}

/**
 * Two-process round, last step: A leaves.
 *
 * @param args The newcomer's peer id (to describe A's view of it).
 * @returns A's view of the round.
 */
export async function memberLeave(args: { other?: string }): Promise<SideView | undefined> {
  const m = member;
  member = undefined;
  if (!m) return undefined;
  const seen = view(m.meeting, m.start, m.end, args.other);
  await m.meeting.leave();
  return seen;
}

/**
 * Two-process round, the measured step: B joins the meeting A waits in (another process),
 * sends A one message as soon as A is its participant, and leaves once it is acknowledged.
 *
 * @param api The build under test.
 * @param args Bootstrap addresses, the code, A's peer id.
 * @returns B's side of the round (`a` is filled in by the caller from {@linkcode memberLeave}).
 */
export async function newcomerRound(
  api: MeshmeetApi,
  args: PairRoundArgs & MemberJoined,
): Promise<PairRoundResult> {
  const side: NewcomerSide = { start: 0, end: 0 };
  const none = view(undefined, 0, 0);
  const mode = "newcomer, two processes";
  try {
    const options = { bootstrap: args.bootstrap, rtcConfiguration: LOOPBACK_RTC };
    const times = await newcomerJoins(
      api,
      args.code,
      options,
      args.peerId,
      args.timeoutMs ?? 20_000,
      side,
    );
    return {
      mode,
      ok: true,
      ...times,
      a: none,
      b: view(side.meeting, side.start, side.end, args.peerId),
    };
  } catch (err) {
    return {
      mode,
      ok: false,
      error: (err as Error).message,
      a: none,
      b: view(side.meeting, side.start, side.end, args.peerId),
    };
  } finally {
    await side.meeting?.leave().catch(() => {});
  }
}
