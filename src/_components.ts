/**
 * Handing one libp2p service or transport its own versions of some components.
 *
 * @module
 */

/**
 * The same components, but for `overrides`, which this one consumer sees in their place.
 *
 * @param components What libp2p hands the consumer.
 * @param overrides Components to replace, by name.
 * @returns A view of `components` with the overrides.
 */
export function withComponents<T extends object>(
  components: T,
  overrides: Record<string, unknown>,
): T {
  return new Proxy(components, {
    get: (target, property, receiver) =>
      typeof property === "string" && Object.hasOwn(overrides, property)
        ? overrides[property]
        : Reflect.get(target, property, receiver),
  });
}
