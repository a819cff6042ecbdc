// What can go wrong with an outbound federation request, as one error type
// whose message tells an operator what failed and, where there is one, what
// to change. Callers branch on `kind`; people read `message`.

export type FederationErrorKind =
  /** Our own policy refused before any connection: whitelist, our own name, IP ranges. */
  | 'refused'
  /** The server name could not be turned into an address to connect to. */
  | 'discovery'
  /** No TCP connection: refused, unreachable, the name does not resolve. */
  | 'connect'
  /** The TLS handshake failed, usually because the certificate is not trusted. */
  | 'tls'
  | 'timeout'
  /** The caller aborted (its signal). */
  | 'aborted'
  /** The remote server answered with an HTTP error status. */
  | 'http'
  /** The answer could not be used: not JSON, too large, cut short. */
  | 'response';

export class FederationError extends Error {
  constructor(
    readonly kind: FederationErrorKind,
    readonly destination: string,
    message: string,
    /** For 'http': the status, and the remote Matrix error if the body was one. */
    readonly status?: number,
    readonly errcode?: string,
    readonly remoteError?: string,
  ) {
    super(message);
    this.name = 'FederationError';
  }
}
