/**
 * Lines of a byte stream.
 *
 * @module
 */

/**
 * Split a byte stream (UTF-8) into lines, without their `\n` or `\r\n`. A last line without
 * a newline is yielded too.
 *
 * @param source A byte stream, e.g. `Deno.stdin.readable` or a child's `stdout`.
 * @returns An async iterable of lines.
 */
export async function* readLines(source: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of source) {
    buffer += decoder.decode(chunk, { stream: true });
    let i;
    while ((i = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, i).replace(/\r$/, "");
      buffer = buffer.slice(i + 1);
    }
  }
  buffer += decoder.decode();
  if (buffer.length > 0) yield buffer;
}
