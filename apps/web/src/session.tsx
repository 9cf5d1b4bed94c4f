import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, type Me, type QgRequest, type Role } from './api.ts';
import { loadKeys, type StoredKeys } from './key-store.ts';

/** How the keys in this browser relate to the ones the gateway has enrolled for the user. */
export type KeyState = 'checking' | 'none-anywhere' | 'missing-here' | 'mismatch' | 'ok' | 'unenrolled-local';

export interface Session {
  me: Me;
  /** undefined while IndexedDB is being read. */
  localKeys: StoredKeys | null | undefined;
  keyState: KeyState;
  has: (role: Role) => boolean;
  /** Reloads `me` and this browser's keys (after enrolment or a restore). */
  refresh: () => Promise<void>;
  /** id → display name for the people and service accounts this user may list. */
  names: Map<string, string>;
  logout: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error('useSession outside SessionProvider');
  return session;
}

export function keyStateOf(me: Me, local: StoredKeys | null | undefined): KeyState {
  if (local === undefined) return 'checking';
  if (me.keys === null) return local === null ? 'none-anywhere' : 'unenrolled-local';
  if (local === null) return 'missing-here';
  return local.encryptionThumbprint === me.keys.encryptionThumbprint && local.signingThumbprint === me.keys.signingThumbprint ? 'ok' : 'mismatch';
}

/**
 * Names for ids. The gateway's directory (users and service accounts by name) is open
 * to admins, security leads and auditors; everyone else knows their own name and the
 * names each request carries (`requestNames`).
 */
async function loadNames(me: Me): Promise<Map<string, string>> {
  const names = new Map<string, string>([[me.id, me.displayName]]);
  const canList = me.roles.some((r) => r === 'admin' || r === 'security_lead' || r === 'auditor');
  const entries = canList ? await api.listDirectory().catch(() => []) : [];
  for (const e of entries) {
    if (e.kind === 'service_account') names.set(e.id, `${e.name} (service account)`);
    else names.set(e.id, e.username === undefined || e.name === e.username ? e.name : `${e.name} (${e.username})`);
  }
  return names;
}

export function SessionProvider({ me: initialMe, onLoggedOut, children }: { me: Me; onLoggedOut: () => void; children: ReactNode }) {
  const [me, setMe] = useState(initialMe);
  const [localKeys, setLocalKeys] = useState<StoredKeys | null | undefined>(undefined);
  const [names, setNames] = useState<Map<string, string>>(() => new Map([[initialMe.id, initialMe.displayName]]));

  const refresh = useCallback(async () => {
    const fresh = await api.me();
    setMe(fresh);
    setLocalKeys(fresh.kind === 'user' ? await loadKeys(fresh.id) : null);
    setNames(await loadNames(fresh));
  }, []);

  useEffect(() => {
    let live = true;
    loadKeys(initialMe.id).then(
      (k) => live && setLocalKeys(k),
      () => live && setLocalKeys(null),
    );
    loadNames(initialMe).then((n) => live && setNames(n), () => undefined);
    return () => {
      live = false;
    };
  }, [initialMe]);

  const logout = useCallback(async () => {
    await api.logout().catch(() => undefined);
    onLoggedOut();
  }, [onLoggedOut]);

  const value = useMemo<Session>(
    () => ({ me, localKeys, keyState: keyStateOf(me, localKeys), has: (role) => me.roles.includes(role), refresh, names, logout }),
    [me, localKeys, refresh, names, logout],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/**
 * The names a request response carries: its custodians' and approvers'
 * usernames and its requester's username or service-account name. Every user
 * who may see a request gets them, not only those who may list users.
 */
export function requestNames(request: QgRequest): Map<string, string> {
  const names = new Map<string, string>(Object.entries(request.names ?? {}));
  for (const a of request.approvals) if (typeof a.username === 'string' && a.username !== '') names.set(a.userId, a.username);
  const { requester } = request;
  if (typeof requester.name === 'string' && requester.name !== '') names.set(requester.id, requester.name);
  return names;
}

/**
 * A person's or account's name if this user may know it (from the user and
 * service-account lists, else from `known`, e.g. `requestNames(request)`),
 * else says the account is unknown to this user: never an id prefix, which reads as a
 * name and is none (the id is in PersonName's tooltip).
 */
export function useName(): (id: string, kind?: 'user' | 'service_account', known?: ReadonlyMap<string, string>) => string {
  const { names, me } = useSession();
  return useCallback(
    (id: string, kind?: 'user' | 'service_account', known?: ReadonlyMap<string, string>) => {
      if (id === me.id) return `${names.get(id) ?? me.displayName} (you)`;
      const listed = names.get(id);
      if (listed !== undefined) return listed;
      const carried = known?.get(id);
      if (carried !== undefined) return kind === 'service_account' ? `${carried} (service account)` : carried;
      return kind === 'service_account' ? 'a service account not known to you' : kind === 'user' ? 'a user not known to you' : 'an account not known to you';
    },
    [names, me],
  );
}
