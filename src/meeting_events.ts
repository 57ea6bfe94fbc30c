/**
 * The event side of a meeting: `addEventListener`/`removeEventListener` typed by
 * {@linkcode MeetingEventMap}, and an `emit` that keeps a throwing listener from breaking
 * the code that emitted.
 *
 * @module
 */
import type { Logger } from "./logger.ts";
import type { MeetingEventMap } from "./meeting_types.ts";

/** An `EventTarget` whose listeners are typed by {@linkcode MeetingEventMap}. */
export class MeetingEvents extends EventTarget {
  /**
   * Listen to a meeting event.
   *
   * @param type Event name.
   * @param listener Handler (receives a `CustomEvent` with `detail`).
   * @param options Listener options.
   */
  override addEventListener<K extends keyof MeetingEventMap>(
    type: K,
    listener: (event: MeetingEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Listen to any event (untyped form).
   *
   * @param type Event name.
   * @param listener Handler.
   * @param options Listener options.
   */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null | ((event: never) => void),
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /**
   * Stop listening to a meeting event.
   *
   * @param type Event name.
   * @param listener The handler given to `addEventListener`.
   * @param options Listener options.
   */
  override removeEventListener<K extends keyof MeetingEventMap>(
    type: K,
    listener: (event: MeetingEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  /**
   * Stop listening to any event (untyped form).
   *
   * @param type Event name.
   * @param listener Handler.
   * @param options Listener options.
   */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null | ((event: never) => void),
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /**
   * Dispatch an event; a listener that throws is logged, not propagated.
   * @ignore
   *
   * @param type Event name.
   * @param detail Its detail.
   * @param log Where a throwing listener is reported.
   */
  protected emitEvent<K extends keyof MeetingEventMap>(
    type: K,
    detail: MeetingEventMap[K]["detail"],
    log: Logger,
  ): void {
    try {
      this.dispatchEvent(new CustomEvent(type, { detail }));
    } catch (err) {
      log.error(`a "${type}" listener threw`, err);
    }
  }
}
