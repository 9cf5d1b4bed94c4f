import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, setUnauthorizedHandler, type Me, type Role } from './api.ts';
import { ErrorMessage, Loading } from './components/feedback.tsx';
import { KeyWarning } from './components/key-warning.tsx';
import { Link } from './components/link.tsx';
import { AuditPage } from './pages/audit-page.tsx';
import { CredentialPage } from './pages/credential-page.tsx';
import { CredentialsPage } from './pages/credentials-page.tsx';
import { InboxPage } from './pages/inbox-page.tsx';
import { KeysPage } from './pages/keys-page.tsx';
import { LoginPage } from './pages/login-page.tsx';
import { MyCredentialsPage } from './pages/my-credentials-page.tsx';
import { MyNotificationsPage } from './pages/my-notifications-page.tsx';
import { MyRequestsPage } from './pages/my-requests-page.tsx';
import { NewRequestPage } from './pages/new-request-page.tsx';
import { NotificationsPage } from './pages/notifications-page.tsx';
import { ChangePasswordPage, ForcedPasswordChange } from './pages/password-page.tsx';
import { PoliciesPage } from './pages/policies-page.tsx';
import { PolicyPage } from './pages/policy-page.tsx';
import { RequestPage } from './pages/request-page.tsx';
import { ServiceAccountsPage } from './pages/service-accounts-page.tsx';
import { UsersPage } from './pages/users-page.tsx';
import { useRoute, type Route } from './router.ts';
import { SessionProvider, useSession } from './session.tsx';
import { useTabTitle } from './use-tab-title.ts';
import { markSignedIn, markSignedOut, probablySignedIn } from './signed-in-hint.ts';

type AppState = { kind: 'loading' } | { kind: 'signed-out'; notice: string | null } | { kind: 'signed-in'; me: Me } | { kind: 'error'; error: unknown };

export function App() {
  const [state, setState] = useState<AppState>({ kind: 'loading' });

  const check = useCallback(() => {
    // Sent back from single sign-on with an error: not signed in.
    if (window.location.search.includes('sso_error=')) markSignedOut();
    if (!probablySignedIn()) {
      setState({ kind: 'signed-out', notice: null });
      return;
    }
    setState({ kind: 'loading' });
    api.me().then(
      (me) => {
        markSignedIn();
        setState({ kind: 'signed-in', me });
      },
      (error: unknown) => {
        if (error instanceof ApiError && error.status === 401) markSignedOut();
        setState(error instanceof ApiError && error.status === 401 ? { kind: 'signed-out', notice: null } : { kind: 'error', error });
      },
    );
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      markSignedOut();
      setState((s) => (s.kind === 'signed-in' ? { kind: 'signed-out', notice: 'Your session has ended. Sign in again to continue.' } : s));
    });
    check();
  }, [check]);

  switch (state.kind) {
    case 'loading':
      return (
        <main id="main" className="login">
          <Loading what="your session" />
        </main>
      );
    case 'error':
      return (
        <main id="main" className="login">
          <ErrorMessage title="The gateway could not be reached" error={state.error} onRetry={check} />
        </main>
      );
    case 'signed-out':
      return (
        <LoginPage
          notice={state.notice}
          onLoggedIn={(me) => {
            markSignedIn();
            setState({ kind: 'signed-in', me });
          }}
        />
      );
    case 'signed-in':
      if (state.me.mustChangePassword) {
        return (
          <ForcedPasswordChange
            me={state.me}
            onChanged={(me) => setState({ kind: 'signed-in', me })}
            onSignOut={() => void api.logout().finally(() => setState({ kind: 'signed-out', notice: 'You are signed out.' }))}
          />
        );
      }
      return (
        <SessionProvider
          key={state.me.id}
          me={state.me}
          onLoggedOut={() => {
            markSignedOut();
            setState({ kind: 'signed-out', notice: 'You are signed out.' });
          }}
        >
          <Shell />
        </SessionProvider>
      );
  }
}

interface NavItem {
  href: string;
  label: string;
  pages: Route['page'][];
  roles: Role[] | 'users';
}

const NAV: NavItem[] = [
  { href: '/inbox', label: 'Inbox', pages: ['inbox'], roles: ['operator'] },
  { href: '/requests', label: 'Requests', pages: ['my-requests', 'new-request'], roles: 'users' },
  { href: '/keys', label: 'My keys', pages: ['keys'], roles: 'users' },
  { href: '/my-credentials', label: 'My credentials', pages: ['my-credentials'], roles: ['operator'] },
  { href: '/me/notifications', label: 'My notifications', pages: ['my-notifications'], roles: 'users' },
  { href: '/credentials', label: 'Credentials', pages: ['credentials', 'credential'], roles: ['security_lead'] },
  { href: '/policies', label: 'Policies', pages: ['policies', 'policy'], roles: ['security_lead'] },
  { href: '/users', label: 'Users', pages: ['users'], roles: ['admin'] },
  { href: '/service-accounts', label: 'Service accounts', pages: ['service-accounts'], roles: ['admin'] },
  { href: '/notifications', label: 'Notifications', pages: ['notifications'], roles: ['admin'] },
  { href: '/audit', label: 'Audit log', pages: ['audit'], roles: ['auditor'] },
];

function Shell() {
  const session = useSession();
  const route = useRoute();
  const items = NAV.filter((n) => n.roles === 'users' || n.roles.some((r) => session.has(r)));
  useTabTitle(pageTitle(route, session.has('operator')), session.has('operator'));
  // A request page belongs to the list it was opened from: the Inbox or Requests.
  const [listPage, setListPage] = useState<Route['page']>('my-requests');
  useEffect(() => {
    if (route.page === 'inbox' || route.page === 'my-requests') setListPage(route.page === 'inbox' && session.has('operator') ? 'inbox' : 'my-requests');
  }, [route.page, session]);
  const current = route.page === 'request' ? listPage : route.page === 'inbox' && !session.has('operator') ? 'my-requests' : route.page;

  useEffect(() => {
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [route.page]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          <span className="brand-mark" aria-hidden="true">◆</span> quorumgate
        </Link>
        <nav aria-label="Main">
          <ul>
            {items.map((n) => (
              <li key={n.href}>
                <Link href={n.href} aria-current={n.pages.includes(current) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="whoami">
          <span title={`roles: ${session.me.roles.join(', ')}`}>
            {session.me.displayName} <span className="muted">({session.me.username})</span>
          </span>
          {session.me.signIn === 'password' && (
            <Link href="/me/password" className="small" aria-current={route.page === 'change-password' ? 'page' : undefined}>
              Change password
            </Link>
          )}
          <button type="button" className="secondary small" onClick={() => void session.logout()}>
            Sign out
          </button>
        </div>
      </header>
      <KeyWarning />
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

/** The page's name in the tab's title. */
function pageTitle(route: Route, operator: boolean): string {
  const own: Partial<Record<Route['page'], string>> = { inbox: operator ? 'Inbox' : 'Requests', request: 'Request', 'new-request': 'New request', 'not-found': 'Page not found' };
  return own[route.page] ?? NAV.find((n) => n.pages.includes(route.page))?.label ?? 'quorumgate';
}

/**
 * The roles that may open a page: those the gateway lets read what it shows (security
 * leads and auditors read users, auditors service accounts, read-only), else the
 * navigation's; a page in no nav item is open to every signed-in user.
 */
const READERS: Partial<Record<Route['page'], Role[]>> = {
  users: ['admin', 'security_lead', 'auditor'],
  'service-accounts': ['admin', 'auditor'],
  // The gateway answers a credential only to those who may see it (custodians, requesters a policy lets use it).
  credential: ['admin', 'security_lead', 'auditor', 'operator', 'requester'],
  policy: ['admin', 'security_lead', 'auditor'],
};

function rolesFor(page: Route['page']): Role[] | 'users' {
  return READERS[page] ?? NAV.find((n) => n.pages.includes(page))?.roles ?? 'users';
}

function NotAllowed({ roles }: { roles: Role[] }) {
  return (
    <section className="stack" data-testid="not-allowed">
      <h1>Not allowed</h1>
      <p>
        This page needs the {roles.map((r) => r.replace('_', ' ')).join(' or ')} role, which your account does not hold. Ask an administrator if you
        need it, or <Link href="/">go to the start page</Link>.
      </p>
    </section>
  );
}

function Page({ route }: { route: Route }) {
  const session = useSession();
  const roles = rolesFor(route.page);
  if (roles !== 'users' && route.page !== 'inbox' && !roles.some((r) => session.has(r))) return <NotAllowed roles={roles} />;
  switch (route.page) {
    case 'inbox':
      return session.has('operator') ? <InboxPage /> : <MyRequestsPage />;
    case 'request':
      return <RequestPage id={route.id} />;
    case 'my-requests':
      return <MyRequestsPage />;
    case 'new-request':
      return <NewRequestPage />;
    case 'keys':
      return <KeysPage />;
    case 'my-credentials':
      return <MyCredentialsPage />;
    case 'credentials':
      return <CredentialsPage />;
    case 'policies':
      return <PoliciesPage />;
    case 'policy':
      return <PolicyPage id={route.id} />;
    case 'credential':
      return <CredentialPage id={route.id} />;
    case 'users':
      return <UsersPage />;
    case 'service-accounts':
      return <ServiceAccountsPage />;
    case 'audit':
      return <AuditPage />;
    case 'notifications':
      return <NotificationsPage />;
    case 'my-notifications':
      return <MyNotificationsPage />;
    case 'change-password':
      return <ChangePasswordPage />;
    case 'not-found':
      return (
        <section>
          <h1>Page not found</h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <Link href="/">Go to the start page</Link>.
          </p>
        </section>
      );
  }
}
