import { api, type Me, type Policy } from './api.ts';
import { useSession } from './session.tsx';
import { useLoad } from './use-load.ts';

/** Whether a policy this user can see lets them submit `reveal` (which seals the secret to their own key). */
export function mayRequestReveal(me: Me, policies: readonly Policy[]): boolean {
  return policies.some((p) => {
    if (!p.operations.some((o) => o.kind === 'reveal')) return false;
    const rule = p.requesters;
    if (rule === null) return me.roles.includes('requester');
    const roles: readonly string[] = me.roles;
    return (rule.roles ?? []).some((r) => roles.includes(r)) || (rule.users ?? []).includes(me.id);
  });
}

/**
 * Who needs custodian keys: a custodian (operator role), or a user some policy lets use
 * `reveal`. Everyone else is not urged to create keys. undefined while the policies load.
 */
export function useNeedsKeys(): boolean | undefined {
  const { me, has } = useSession();
  const operator = has('operator');
  const load = useLoad(() => (operator || me.kind !== 'user' ? Promise.resolve(operator) : api.listPolicies().then((ps) => mayRequestReveal(me, ps), () => false)), [me, operator]);
  return load.data;
}
