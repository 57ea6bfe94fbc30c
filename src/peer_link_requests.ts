/**
 * Requests one peer link sent and the responses that answer them (requirement M4): each
 * request gets an id (the `ref` of its Request frame and of the Response), a timeout and
 * an abort signal; a response settles the request with the same id.
 *
 * @module
 */
import { DeliveryError } from "./errors.ts";

/** Flag bit of a response that carries an error. */
export const RESPONSE_ERROR_FLAG = 2;

const MAX_U32 = 0xffff_ffff;

/** The answer to a request. */
export interface RequestResult {
  /** The response payload. */
  payload: Uint8Array;
  /** Whether the other side reported an error (the payload then encodes it). */
  error: boolean;
}

/**
 * Writes the Request frame `id` (its `ref`) with `payload`; rejects when the frame cannot be
 * delivered.
 */
export type RequestSender = (
  id: number,
  payload: Uint8Array,
  signal: AbortSignal | undefined,
) => Promise<void>;

interface PendingRequest {
  resolve: (payload: Uint8Array, error: boolean) => void;
  reject: (err: Error) => void;
}

/** The requests of one link that wait for their response. */
export class PendingRequests {
  #requests = new Map<number, PendingRequest>();
  #nextId = 1;
  #peerId: string;
  #timeoutMs: number;
  #send: RequestSender;

  /**
   * @param peerId The peer asked (for error messages).
   * @param timeoutMs How long a request waits for its response.
   * @param send Writes a Request frame (one function per link, not one per request).
   */
  constructor(peerId: string, timeoutMs: number, send: RequestSender) {
    this.#peerId = peerId;
    this.#timeoutMs = timeoutMs;
    this.#send = send;
  }

  /**
   * Start a request: take an id, send it, wait for the response to it.
   *
   * @param payload Encoded request.
   * @param signal Abort signal.
   * @returns The response.
   */
  open(payload: Uint8Array, signal?: AbortSignal): Promise<RequestResult> {
    const id = this.#nextId;
    this.#nextId = this.#nextId >= MAX_U32 ? 1 : this.#nextId + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#requests.delete(id);
        reject(
          new DeliveryError(
            `Request to ${this.#peerId} got no response within ${this.#timeoutMs} ms`,
          ),
        );
      }, this.#timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#requests.delete(id);
      };
      signal?.addEventListener("abort", () => {
        done();
        reject(signal.reason);
      }, { once: true });
      this.#requests.set(id, {
        resolve: (p, error) => {
          done();
          resolve({ payload: p, error });
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      this.#send(id, payload, signal).catch((err) => {
        done();
        reject(err);
      });
    });
  }

  /**
   * A response arrived: settle the request it answers, if it still waits.
   *
   * @param id The response's `ref`.
   * @param payload The response payload.
   * @param error Whether it carries an error.
   */
  respond(id: number, payload: Uint8Array, error: boolean): void {
    const request = this.#requests.get(id);
    if (request) {
      this.#requests.delete(id);
      request.resolve(payload, error);
    }
  }

  /**
   * Fail every request waiting (the link closes).
   *
   * @param err What they reject with.
   */
  rejectAll(err: Error): void {
    for (const request of this.#requests.values()) request.reject(err);
    this.#requests.clear();
  }
}
