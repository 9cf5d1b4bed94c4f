/**
 * Overwrites buffers holding secrets with zeros. Skips null/undefined so it
 * can sit in a `finally` whose variables may not have been assigned.
 *
 * @example
 * try { use(key); } finally { zeroize(key); }
 */
export function zeroize(...buffers: (Uint8Array | undefined | null)[]): void {
  for (const b of buffers) b?.fill(0);
}
