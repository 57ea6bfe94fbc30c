/**
 * Node variant of `event_loop.ts`: Node's `BroadcastChannel` has `unref()` already.
 *
 * @module
 */

/** Whether `BroadcastChannel` can be unref'd here (so libp2p lets the process end). */
export const broadcastChannelUnref: boolean = true;

/** Whether `AbortSignal.timeout()` timers are unref'd here (so libp2p lets the process end). */
export const timeoutSignalUnref: boolean = true;
