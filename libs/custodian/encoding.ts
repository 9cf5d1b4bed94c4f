import { base64url } from 'jose';

export const utf8 = new TextEncoder();

export function toB64u(bytes: Uint8Array): string {
  return base64url.encode(bytes);
}

/** Strict: alphabet and canonical form checked, as decoders differ between runtimes. */
export function fromB64u(s: unknown): Uint8Array<ArrayBuffer> | null {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return null;
  try {
    const bytes = new Uint8Array(base64url.decode(s));
    return base64url.encode(bytes) === s ? bytes : null;
  } catch {
    return null;
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
