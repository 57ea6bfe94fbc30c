/**
 * CLI output: human lines or JSON lines, with timestamps relative to the start.
 *
 * @module
 */
import { writeStderr, writeStdout } from "../runtime/process.ts";

const started = performance.now();

/** Milliseconds since the CLI started. */
export function elapsed(): number {
  return Math.round(performance.now() - started);
}

/** Prints events either as JSON lines (`--json`) or as readable lines. */
export class Output {
  /** Whether JSON lines are printed. */
  readonly json: boolean;
  /** @param json Print JSON lines. */
  constructor(json: boolean) {
    this.json = json;
  }

  /**
   * Print one event.
   *
   * @param event Event name.
   * @param human The readable line.
   * @param fields Fields of the JSON line.
   */
  event(event: string, human: string, fields: Record<string, unknown> = {}): void {
    if (this.json) writeStdout(JSON.stringify({ event, t: elapsed(), ...fields }) + "\n");
    else writeStdout(`${human}\n`);
  }

  /**
   * Print progress on stderr (never in JSON mode).
   *
   * @param text The progress line.
   */
  progress(text: string): void {
    if (!this.json) writeStderr(`${text}\n`);
  }
}
