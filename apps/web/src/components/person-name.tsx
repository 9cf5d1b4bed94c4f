import type { QgRequest } from '../api.ts';
import { requestNames, useName } from '../session.tsx';

/**
 * A user's or service account's name, with its id as the tooltip. `request`
 * supplies the names its response carries (custodians, approvers, requester).
 */
export function PersonName({ id, kind, request }: { id: string; kind?: 'user' | 'service_account'; request?: QgRequest }) {
  const name = useName();
  const label = name(id, kind, request !== undefined ? requestNames(request) : undefined);
  return (
    <span className="person" title={kind === undefined ? id : `${kind === 'service_account' ? 'service account' : 'user'} id ${id}`} data-testid="person" data-person-id={id}>
      {label}
    </span>
  );
}
