/**
 * Shared fakes for unit tests.
 *
 * {@linkcode createStreamPair} returns two connected in-memory stand-ins for a libp2p
 * `Stream`: what one side `send`s arrives on the other as a `"message"` event, `close()`
 * tells the other side `"remoteCloseWrite"`, and `abort(err)` ends both sides with a
 * `"close"` event carrying `err`. Delivery is asynchronous (one microtask per chunk) and
 * in order, like a real stream. Only the members that meshmeet uses are implemented.
 *
 * @module
 */
import type { Stream } from "@libp2p/interface";
import type { Uint8ArrayList } from "uint8arraylist";

/** The `"message"` event of a fake stream (mirrors libp2p's `StreamMessageEvent`). */
export class FakeMessageEvent extends Event {
  /** The chunk that arrived. */
  readonly data: Uint8Array | Uint8ArrayList;

  /** @param data The chunk that arrived. */
  constructor(data: Uint8Array | Uint8ArrayList) {
    super("message");
    this.data = data;
  }
}

/** The `"close"` event of a fake stream (mirrors libp2p's `StreamCloseEvent`). */
export class FakeCloseEvent extends Event {
  /** Why the stream ended; undefined for a graceful close. */
  readonly error?: Error;
  /** Whether this side ended the stream. */
  readonly local: boolean;

  /**
   * @param local Whether this side ended the stream.
   * @param error Why, when it was aborted.
   */
  constructor(local: boolean, error?: Error) {
    super("close");
    this.local = local;
    this.error = error;
  }
}

/** One end of an in-memory stream pair. */
export class FakeStream extends EventTarget {
  /** The other end; set by {@linkcode createStreamPair}. */
  peer!: FakeStream;
  /** `"open"`, then `"closed"` or `"aborted"`. */
  status: "open" | "closed" | "aborted" = "open";
  /** `"writable"` until this side closes or aborts. */
  writeStatus: "writable" | "closed" = "writable";
  /** `"readable"` until the other side closes its write end, or an abort. */
  readStatus: "readable" | "closed" = "readable";
  /** Whether {@linkcode send} currently reports a full buffer. */
  writableNeedsDrain = false;
  /** Every chunk this side sent, as copies. */
  readonly sent: Uint8Array[] = [];
  /** Every chunk delivered to this side, as copies. */
  readonly received: Uint8Array[] = [];
  /** The error passed to {@linkcode abort}, when this side aborted. */
  abortError: Error | undefined;
  /** How many times {@linkcode close} was called. */
  closeCalls = 0;
  #drainWaiters: Array<() => void> = [];

  /** @param direction Which side opened the stream. */
  constructor(readonly direction: "outbound" | "inbound") {
    super();
  }

  /**
   * Send a chunk to the other side.
   *
   * @param data The bytes.
   * @returns `false` while {@linkcode writableNeedsDrain} is set (the chunk is still sent).
   * @throws {Error} When this side can no longer write.
   */
  send(data: Uint8Array | Uint8ArrayList): boolean {
    if (this.writeStatus !== "writable") {
      throw new Error(`FakeStream: cannot send, the stream is ${this.status}`);
    }
    this.sent.push(data.slice());
    const peer = this.peer;
    queueMicrotask(() => peer._deliver(data));
    return !this.writableNeedsDrain;
  }

  /** @internal Deliver a chunk from the other side. */
  _deliver(data: Uint8Array | Uint8ArrayList): void {
    if (this.readStatus !== "readable") return;
    this.received.push(data.slice());
    this.dispatchEvent(new FakeMessageEvent(data));
  }

  /**
   * Resolve once {@linkcode writableNeedsDrain} is cleared by {@linkcode drain}.
   *
   * @param options Abort signal.
   */
  onDrain(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.writableNeedsDrain) return Promise.resolve();
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#drainWaiters = this.#drainWaiters.filter((w) => w !== waiter);
        reject(signal!.reason);
      };
      const waiter = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#drainWaiters.push(waiter);
    });
  }

  /** Test helper: clear {@linkcode writableNeedsDrain} and wake the `onDrain` waiters. */
  drain(): void {
    this.writableNeedsDrain = false;
    for (const waiter of this.#drainWaiters.splice(0)) waiter();
    this.dispatchEvent(new Event("drain"));
  }

  /** Close gracefully: the other side sees `"remoteCloseWrite"` after the data sent so far. */
  close(): Promise<void> {
    this.closeCalls++;
    if (this.status !== "open") return Promise.resolve();
    this.status = "closed";
    this.writeStatus = "closed";
    const peer = this.peer;
    queueMicrotask(() => peer._remoteCloseWrite());
    this.dispatchEvent(new FakeCloseEvent(true));
    return Promise.resolve();
  }

  /** @internal The other side closed its write end. */
  _remoteCloseWrite(): void {
    if (this.readStatus !== "readable") return;
    this.readStatus = "closed";
    this.dispatchEvent(new Event("remoteCloseWrite"));
  }

  /**
   * End both sides at once: each gets a `"close"` event whose `error` is `err`.
   *
   * @param err Why.
   */
  abort(err: Error): void {
    if (this.status === "aborted") return;
    this.abortError = err;
    this._end(err, true);
    const peer = this.peer;
    queueMicrotask(() => peer._end(err, false));
  }

  /** @internal End this side with an error. */
  _end(err: Error, local: boolean): void {
    if (this.status === "aborted") return;
    this.status = "aborted";
    this.writeStatus = "closed";
    this.readStatus = "closed";
    this.dispatchEvent(new FakeCloseEvent(local, err));
  }

  /** This fake as the libp2p type that `FramedStream` expects. */
  asStream(): Stream {
    return this as unknown as Stream;
  }
}

/**
 * Create two connected fake streams.
 *
 * @returns `[dialer, listener]`: the outbound end and the inbound end.
 */
export function createStreamPair(): [FakeStream, FakeStream] {
  const a = new FakeStream("outbound");
  const b = new FakeStream("inbound");
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** Concatenate byte arrays. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Whether `needle` occurs in `haystack` as a contiguous run of bytes. */
export function includesBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  if (needle.length === 0) return true;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}
