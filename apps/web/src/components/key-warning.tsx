import { useSession } from '../session.tsx';
import { Link } from './link.tsx';

/** The banner that tells a custodian, on every page, that this browser cannot approve. */
export function KeyWarning() {
  const { keyState, me, has } = useSession();
  if (me.kind !== 'user') return null;
  switch (keyState) {
    case 'checking':
    case 'ok':
      return null;
    case 'none-anywhere':
    case 'unenrolled-local':
      if (!has('operator')) return null;
      return (
        <div className="banner banner-warning" role="status" data-testid="key-warning">
          You have no custodian keys yet, so you cannot approve requests. <Link href="/keys">Create your keys</Link>.
        </div>
      );
    case 'missing-here':
      return (
        <div className="banner banner-warning" role="status" data-testid="key-warning">
          This browser holds no key for {me.username}: you cannot approve from here. <Link href="/keys">Restore your key backup</Link> or use the browser you enrolled with.
        </div>
      );
    case 'mismatch':
      return (
        <div className="banner banner-error" role="alert" data-testid="key-warning">
          The keys in this browser are not the ones enrolled for {me.username}. <Link href="/keys">Check your keys</Link>.
        </div>
      );
  }
}
