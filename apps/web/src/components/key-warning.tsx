import { useSession } from '../session.tsx';
import { useNeedsKeys } from '../use-needs-keys.ts';
import { Link } from './link.tsx';

/** The banner that tells a custodian, on every page, that this browser cannot approve. */
export function KeyWarning() {
  const { keyState, me, has, localKeys } = useSession();
  const needsKeys = useNeedsKeys();
  if (me.kind !== 'user' || needsKeys !== true) return null;
  switch (keyState) {
    case 'checking':
      return null;
    case 'ok':
      if (localKeys?.backup?.state !== 'pending') return null;
      return (
        <div className="banner banner-warning" role="status" data-testid="backup-warning">
          Your keys have no backup yet: a lost browser would lose your shares. <Link href="/keys">Make the backup</Link>.
        </div>
      );
    case 'none-anywhere':
    case 'unenrolled-local':
      return (
        <div className="banner banner-warning" role="status" data-testid="key-warning">
          {has('operator') ? 'You have no custodian keys yet, so you cannot approve requests.' : 'You have no keys yet, so a revealed secret cannot be sealed to you.'}{' '}
          <Link href="/keys">Create your keys</Link>.
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
