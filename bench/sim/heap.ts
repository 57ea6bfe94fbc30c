/**
 * The simulator's event queue: a binary min-heap ordered by time, then by insertion order
 * (so that two events at the same virtual millisecond run in the order they were
 * scheduled, which keeps runs deterministic and messages on a link in order).
 *
 * @module
 */

/** Anything with a time and a sequence number. */
export interface Timed {
  /** Virtual time (ms). */
  at: number;
  /** Insertion order, assigned by the queue. */
  seq: number;
}

/** A binary min-heap of events. */
export class EventQueue<T extends Timed> {
  #items: T[] = [];
  #seq = 0;

  /** How many events are queued. */
  get size(): number {
    return this.#items.length;
  }

  /**
   * Queue an event.
   * @param item The event (its `seq` is overwritten).
   */
  push(item: T): void {
    item.seq = this.#seq++;
    const a = this.#items;
    let i = a.length;
    a.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(item, a[p])) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = item;
  }

  /**
   * The earliest event, without removing it.
   * @returns The event or undefined when empty.
   */
  peek(): T | undefined {
    return this.#items[0];
  }

  /**
   * Remove and return the earliest event.
   * @returns The event or undefined when empty.
   */
  pop(): T | undefined {
    const a = this.#items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    const n = a.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(a[r], a[l]) ? r : l;
        if (!before(a[c], last)) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

function before(x: Timed, y: Timed): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}
