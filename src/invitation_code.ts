/**
 * Invitation codes: generating them and normalizing what people type.
 *
 * A generated code is five words from the BIP-39 English list (2,048 words, 11 bits each)
 * and a four-digit number: 5 × 11 + log2(10,000) ≈ 68.3 bits of entropy, e.g.
 * `"maple-harbor-sunset-meadow-pilot-4821"`. BIP-39 words are 3 to 8 letters and their
 * first four letters are unique, so a code survives being read aloud and retyped.
 *
 * People may type a code with other case, spaces instead of dashes, full-width digits or
 * stray spaces: {@linkcode normalizeInvitationCode} folds all of these onto one form
 * before anything is derived from it.
 *
 * @module
 */
import { wordlist } from "@scure/bip39/wordlists/english";
import { InvalidInvitationCodeError } from "./errors.ts";

/** Shortest accepted code after normalization (characters). */
export const MIN_INVITATION_CODE_LENGTH = 8;
/** Longest accepted code after normalization (characters). */
export const MAX_INVITATION_CODE_LENGTH = 256;
/** Entropy of a code made by {@linkcode generateInvitationCode}, in bits. */
export const GENERATED_CODE_ENTROPY_BITS: number = 5 * 11 + Math.log2(10_000);

const EXAMPLE = '"maple-harbor-sunset-meadow-pilot-4821" (see generateInvitationCode())';

function _randomBelow(n: number): number {
  // Rejection sampling: no modulo bias.
  const limit = Math.floor(0x1_0000_0000 / n) * n;
  const buf = new Uint32Array(1);
  while (true) {
    crypto.getRandomValues(buf);
    if (buf[0] < limit) return buf[0] % n;
  }
}

/**
 * Generate a new invitation code with about 68 bits of entropy from the platform's
 * cryptographic random source.
 *
 * @returns A code such as `"maple-harbor-sunset-meadow-pilot-4821"`.
 *
 * @example Generate a code and share it
 * ```ts
 * import { generateInvitationCode } from "@meshmeet/core";
 * const code = generateInvitationCode();
 * console.log(`Join with: ${code}`);
 * ```
 */
export function generateInvitationCode(): string {
  const words = Array.from({ length: 5 }, () => wordlist[_randomBelow(wordlist.length)]);
  const number = String(_randomBelow(10_000)).padStart(4, "0");
  return [...words, number].join("-");
}

/**
 * Normalize an invitation code as typed by a person: Unicode NFKC, lower case, and any
 * run of spaces, dashes, underscores, dots, commas or slashes turned into a single `-`.
 *
 * @param code The code as typed.
 * @returns The canonical form from which all keys are derived.
 * @throws {InvalidInvitationCodeError} When the code is not a string, empty, too short,
 * too long, or contains control or other unusable characters. The message says what a
 * valid code looks like and never repeats the code itself.
 *
 * @example Different spellings of one code
 * ```ts
 * import { normalizeInvitationCode } from "@meshmeet/core";
 * normalizeInvitationCode("  Maple Harbor_sunset.MEADOW pilot 4821 ");
 * // => "maple-harbor-sunset-meadow-pilot-4821"
 * ```
 */
export function normalizeInvitationCode(code: string): string {
  if (typeof code !== "string") {
    throw new InvalidInvitationCodeError(
      `Cannot use invitation code: expected a string; a valid code looks like ${EXAMPLE}`,
    );
  }
  const folded = code.normalize("NFKC").toLowerCase()
    .replace(/[\s\-_.,/\\]+/gu, "-")
    .replace(/^-+|-+$/g, "");
  if (folded.length === 0) {
    throw new InvalidInvitationCodeError(
      `Cannot use invitation code: it is empty; a valid code looks like ${EXAMPLE}`,
    );
  }
  if (/[^\p{L}\p{N}\p{M}-]/u.test(folded)) {
    throw new InvalidInvitationCodeError(
      "Cannot use invitation code: it contains characters other than letters, digits and " +
        `separators; a valid code looks like ${EXAMPLE}`,
    );
  }
  if (folded.length < MIN_INVITATION_CODE_LENGTH) {
    throw new InvalidInvitationCodeError(
      `Cannot use invitation code: it is too short (${folded.length} characters, minimum ` +
        `${MIN_INVITATION_CODE_LENGTH}); a valid code looks like ${EXAMPLE}`,
    );
  }
  if (folded.length > MAX_INVITATION_CODE_LENGTH) {
    throw new InvalidInvitationCodeError(
      `Cannot use invitation code: it is too long (${folded.length} characters, maximum ` +
        `${MAX_INVITATION_CODE_LENGTH}); a valid code looks like ${EXAMPLE}`,
    );
  }
  return folded;
}
