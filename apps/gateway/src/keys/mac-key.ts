import { deriveMacKey, macHex, verifyMac } from '#libs/crypto';

/** What each MAC vouches for; a MAC made for one purpose never checks for another. */
export type MacPurpose = 'enrolled-keys' | 'share-assignment' | 'notification-delivery';

const derived = new WeakMap<Uint8Array, Buffer>();

/** The MAC key of this master key, derived once (HKDF, libs/crypto `deriveMacKey`). */
function macKeyOf(masterKey: Uint8Array): Buffer {
  let key = derived.get(masterKey);
  if (key === undefined) {
    key = deriveMacKey(masterKey);
    derived.set(masterKey, key);
  }
  return key;
}

/** The MAC to store with a row that a database writer must not change unnoticed. */
export function rowMac(masterKey: Uint8Array, purpose: MacPurpose, value: unknown): string {
  return macHex(macKeyOf(masterKey), purpose, value);
}

/** Whether a stored MAC vouches for these values; false for a missing or malformed one. */
export function rowMacChecks(masterKey: Uint8Array, purpose: MacPurpose, value: unknown, stored: unknown): boolean {
  return verifyMac(macKeyOf(masterKey), purpose, value, stored);
}
