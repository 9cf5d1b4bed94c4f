import { useEffect, useState } from 'react';

/** Client-side routes on the History API; the gateway answers every UI path with index.html. */
export type Route =
  | { page: 'inbox' }
  | { page: 'request'; id: string }
  | { page: 'new-request' }
  | { page: 'my-requests' }
  | { page: 'keys' }
  | { page: 'my-credentials' }
  | { page: 'credentials' }
  | { page: 'credential'; id: string }
  | { page: 'policies' }
  | { page: 'policy'; id: string }
  | { page: 'users' }
  | { page: 'service-accounts' }
  | { page: 'audit' }
  | { page: 'notifications' }
  | { page: 'my-notifications' }
  | { page: 'change-password' }
  | { page: 'not-found'; path: string };

export function parseRoute(path: string): Route {
  if (/^\/requests\/new\/?$/.test(path)) return { page: 'new-request' };
  const request = /^\/requests\/([A-Za-z0-9-]{1,64})\/?$/.exec(path);
  if (request !== null) return { page: 'request', id: request[1] };
  const credential = /^\/credentials\/([A-Za-z0-9._-]{1,64})\/?$/.exec(path);
  if (credential !== null) return { page: 'credential', id: credential[1] };
  const policy = /^\/policies\/([A-Za-z0-9-]{1,64})\/?$/.exec(path);
  if (policy !== null) return { page: 'policy', id: policy[1] };
  switch (path.replace(/\/+$/, '') || '/') {
    case '/':
    case '/inbox':
      return { page: 'inbox' };
    case '/requests':
      return { page: 'my-requests' };
    case '/keys':
      return { page: 'keys' };
    case '/my-credentials':
      return { page: 'my-credentials' };
    case '/credentials':
      return { page: 'credentials' };
    case '/policies':
      return { page: 'policies' };
    case '/users':
      return { page: 'users' };
    case '/service-accounts':
      return { page: 'service-accounts' };
    case '/audit':
      return { page: 'audit' };
    case '/notifications':
      return { page: 'notifications' };
    case '/me/notifications':
      return { page: 'my-notifications' };
    case '/me/password':
      return { page: 'change-password' };
    default:
      return { page: 'not-found', path };
  }
}

const listeners = new Set<() => void>();

export function navigate(to: string): void {
  if (to === window.location.pathname) return;
  window.history.pushState(null, '', to);
  listeners.forEach((l) => l());
}

export function useRoute(): Route {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const update = () => setPath(window.location.pathname);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return parseRoute(path);
}
