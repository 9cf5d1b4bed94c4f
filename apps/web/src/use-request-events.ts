import { useEffect, useRef, useState } from 'react';
import { API_ROUTES, routePath } from './api-routes.ts';
import type { RequestChange } from './api.ts';

export type LiveState = 'connecting' | 'live' | 'reconnecting';

/**
 * Subscribes to `GET /api/v1/events` (server-sent events, same-origin, the
 * session cookie authenticates it) and calls `onChange` for every request
 * change the gateway lets this user see. EventSource reconnects by itself.
 */
export function useRequestEvents(onChange: (change: RequestChange) => void): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  const handler = useRef(onChange);
  handler.current = onChange;

  useEffect(() => {
    const source = new EventSource(routePath(API_ROUTES.events));
    source.onopen = () => setState('live');
    source.onerror = () => setState('reconnecting');
    source.addEventListener('request', (event) => {
      try {
        handler.current(JSON.parse((event as MessageEvent<string>).data) as RequestChange);
      } catch {
        // a malformed event changes nothing on screen
      }
    });
    return () => source.close();
  }, []);

  return state;
}
