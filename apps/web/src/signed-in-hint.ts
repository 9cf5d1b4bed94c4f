/**
 * Whether this browser signed in and has not signed out since: a hint only (the
 * session itself is the HttpOnly cookie, which no script can see), so that a page
 * load when signed out shows the sign-in page without a `GET /me` answering 401.
 * Storage that refuses (some private modes) makes the UI ask the gateway as before.
 */
const KEY = 'qg.signed-in';

export function probablySignedIn(): boolean {
  try {
    return window.localStorage.getItem(KEY) === '1';
  } catch {
    return true;
  }
}

export function markSignedIn(): void {
  try {
    window.localStorage.setItem(KEY, '1');
  } catch {
    // no storage: every load asks the gateway
  }
}

export function markSignedOut(): void {
  try {
    window.localStorage.removeItem(KEY);
  } catch {
    // no storage: nothing to forget
  }
}
