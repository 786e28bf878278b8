// One nonce for every write the server must recognise when it arrives twice: scans, queued writes,
// claims and redemptions. 32 hex characters from the platform's CSPRNG (the server takes 16–64 of
// [A-Za-z0-9_-]); getRandomValues works outside a secure context, where randomUUID does not.

/** A fresh nonce (also used as an idempotency key). */
export function newNonce() {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
