/**
 * Every named error meshmeet throws. Each class sets `name`, has a default message and
 * accepts `{ cause }`, so callers can branch on `err.name` or `instanceof`.
 *
 * Messages lead with what failed and why, and say what to do. None of them ever contains
 * an invitation code or a key.
 *
 * @module
 */

/** Base class of all meshmeet errors. */
export class MeshmeetError extends Error {
  /**
   * Create the error.
   *
   * @param message What failed, why, and what to do.
   * @param options The underlying cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MeshmeetError";
  }
}

/** The invitation code is empty, too short, too long or contains characters that cannot be used. */
export class InvalidInvitationCodeError extends MeshmeetError {
  /**
   * Create the error.
   *
   * @param message What is wrong with the code (never the code itself).
   * @param options The underlying cause, if any.
   */
  constructor(
    message =
      'Invalid invitation code: use a code from generateInvitationCode(), e.g. "maple-harbor-sunset-meadow-pilot-4821"',
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "InvalidInvitationCodeError";
  }
}

/** A DHT record failed verification: bad signature, wrong key, undecryptable, stale or replayed. */
export class InvalidRecordError extends MeshmeetError {
  /**
   * Create the error.
   *
   * @param message Which check failed.
   * @param options The underlying cause, if any.
   */
  constructor(message = "Invalid record", options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidRecordError";
  }
}

/** A frame of the meeting protocol is malformed: truncated, wrong version, bad checksum, unknown type. */
export class InvalidFrameError extends MeshmeetError {
  /**
   * Create the error.
   *
   * @param message Which check failed.
   * @param options The underlying cause, if any.
   */
  constructor(message = "Invalid frame", options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidFrameError";
  }
}

/** A frame or message is larger than the configured limit. */
export class FrameTooLargeError extends MeshmeetError {
  /**
   * Create the error.
   *
   * @param message The size and the limit.
   * @param options The underlying cause, if any.
   */
  constructor(message = "Frame too large", options?: ErrorOptions) {
    super(message, options);
    this.name = "FrameTooLargeError";
  }
}

/** The other side could not prove that it holds the invitation code (or we could not). */
export class MembershipProofError extends MeshmeetError {
  /**
   * Create the error.
   *
   * @param message Why the handshake failed.
   * @param options The underlying cause, if any.
   */
  constructor(
    message = "Membership handshake failed: the other side does not hold this meeting's code",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "MembershipProofError";
  }
}

/** The peer is not (or no longer) a participant of this meeting. */
export class PeerNotFoundError extends MeshmeetError {
  /**
   * Create the error.
   *
   * @param message Which peer.
   * @param options The underlying cause, if any.
   */
  constructor(message = "Peer not found in this meeting", options?: ErrorOptions) {
    super(message, options);
    this.name = "PeerNotFoundError";
  }
}

/**
 * `findPeer()` found no valid record of the peer in the DHT: it never published one (it is
 * not findable), or it went away and its last record expired. A {@linkcode PeerNotFoundError}.
 */
export class PeerRecordNotFoundError extends PeerNotFoundError {
  /**
   * Create the error.
   *
   * @param message Which peer, and why.
   * @param options The underlying cause, if any.
   */
  constructor(message = "Peer not found in the DHT", options?: ErrorOptions) {
    super(message, options);
    this.name = "PeerRecordNotFoundError";
  }
}

/** A message was not acknowledged in time (the peer left, or the link is down for too long). */
export class DeliveryError extends MeshmeetError {
  /**
   * Create the error.
   *
   * @param message Which message and why.
   * @param options The underlying cause, if any.
   */
  constructor(message = "Message was not delivered", options?: ErrorOptions) {
    super(message, options);
    this.name = "DeliveryError";
  }
}

/** A connection to a peer could not be established on any path within its time budget. */
export class ConnectionFailedError extends MeshmeetError {
  /**
   * Create the error.
   *
   * @param message Which peer, which paths were tried.
   * @param options The underlying cause, if any.
   */
  constructor(message = "Connection failed", options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionFailedError";
  }
}

/** No bootstrap node could be reached, so the DHT cannot be used. */
export class BootstrapError extends MeshmeetError {
  /**
   * Create the error.
   *
   * @param message Which addresses were tried.
   * @param options The underlying cause, if any.
   */
  constructor(
    message = "Cannot reach any bootstrap node: check the bootstrap list and the network",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "BootstrapError";
  }
}

/** A file in a bootstrap node's state directory cannot be read or used. */
export class BootstrapStateError extends MeshmeetError {
  /**
   * Create the error.
   *
   * @param message Which file, what is wrong with it, and what to do.
   * @param options The underlying cause, if any.
   */
  constructor(
    message = "Cannot use the bootstrap node's state directory: check its files and permissions",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "BootstrapStateError";
  }
}

/** The meeting (or node) has been left or stopped; the operation cannot run any more. */
export class MeetingClosedError extends MeshmeetError {
  /**
   * Create the error.
   *
   * @param message Which operation was attempted.
   * @param options The underlying cause, if any.
   */
  constructor(message = "The meeting has been left", options?: ErrorOptions) {
    super(message, options);
    this.name = "MeetingClosedError";
  }
}

/** Too many messages or bytes from one peer in a short time; the excess is dropped. */
export class RateLimitError extends MeshmeetError {
  /**
   * Create the error.
   *
   * @param message Which limit.
   * @param options The underlying cause, if any.
   */
  constructor(message = "Rate limit exceeded", options?: ErrorOptions) {
    super(message, options);
    this.name = "RateLimitError";
  }
}

/** No member of the meeting offers the tool asked for (or none offers it to us). */
export class ToolNotFoundError extends MeshmeetError {
  /**
   * Create the error.
   *
   * @param message Which tool, and what to do.
   * @param options The underlying cause, if any.
   */
  constructor(message = "No member of the meeting offers this tool", options?: ErrorOptions) {
    super(message, options);
    this.name = "ToolNotFoundError";
  }
}

/** A tool call reached no member that could answer it: every offering member failed or left. */
export class ToolCallError extends MeshmeetError {
  /** Each member tried, in order, with why it did not answer. */
  readonly attempts: readonly { peerId: string; error: Error }[];
  /**
   * Create the error.
   *
   * @param message Which tool, who was tried, and what to do.
   * @param options The underlying cause and the attempts made.
   */
  constructor(
    message = "The tool call failed on every member that offers the tool",
    options?: ErrorOptions & { attempts?: readonly { peerId: string; error: Error }[] },
  ) {
    super(message, options);
    this.name = "ToolCallError";
    this.attempts = options?.attempts ?? [];
  }
}
