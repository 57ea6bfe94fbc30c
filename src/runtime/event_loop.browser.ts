/**
 * Browser variant of `event_loop.ts`: a page has no event loop to keep alive.
 *
 * @module
 */

/** Whether `BroadcastChannel` can be unref'd here (so libp2p lets the process end). */
export const broadcastChannelUnref: boolean = false;

/** Whether `AbortSignal.timeout()` timers are unref'd here (so libp2p lets the process end). */
export const timeoutSignalUnref: boolean = false;
