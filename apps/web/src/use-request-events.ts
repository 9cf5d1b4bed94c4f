import { useEffect, useRef, useState } from 'react';
import { API_ROUTES, routePath } from './api-routes.ts';
import type { RequestChange } from './api.ts';

export type LiveState = 'connecting' | 'live' | 'reconnecting';

/** After a stream the browser gave up on (an HTTP error closes an EventSource for good): wait this long, then open a new one. */
const REOPEN_AFTER_MS = 3000;

/**
 * One `GET /api/v1/events` stream per tab, shared by every component that listens
 * (the gateway caps streams per caller): opened for the first listener, closed with
 * the last. EventSource reconnects by itself after a network error; after one it
 * closed for good (an HTTP error status), a new one is opened here.
 */
const stream = {
  source: null as EventSource | null,
  state: 'connecting' as LiveState,
  reopen: undefined as ReturnType<typeof setTimeout> | undefined,
  changes: new Set<(change: RequestChange) => void>(),
  states: new Set<(state: LiveState) => void>(),
};

function setStreamState(state: LiveState): void {
  if (stream.state === state) return;
  stream.state = state;
  stream.states.forEach((l) => l(state));
}

function open(): void {
  const source = new EventSource(routePath(API_ROUTES.events));
  stream.source = source;
  source.onopen = () => setStreamState('live');
  source.onerror = () => {
    setStreamState('reconnecting');
    if (source.readyState === EventSource.CLOSED && stream.source === source) {
      stream.source = null;
      stream.reopen = setTimeout(() => {
        stream.reopen = undefined;
        if (stream.changes.size > 0) open();
      }, REOPEN_AFTER_MS);
    }
  };
  source.addEventListener('request', (event) => {
    let change: RequestChange;
    try {
      change = JSON.parse((event as MessageEvent<string>).data) as RequestChange;
    } catch {
      return; // a malformed event changes nothing on screen
    }
    stream.changes.forEach((l) => l(change));
  });
}

function subscribe(onChange: (change: RequestChange) => void, onState: (state: LiveState) => void): () => void {
  stream.changes.add(onChange);
  stream.states.add(onState);
  if (stream.source === null && stream.reopen === undefined) {
    stream.state = 'connecting';
    open();
  }
  onState(stream.state);
  return () => {
    stream.changes.delete(onChange);
    stream.states.delete(onState);
    if (stream.changes.size === 0) {
      stream.source?.close();
      stream.source = null;
      clearTimeout(stream.reopen);
      stream.reopen = undefined;
    }
  };
}

/**
 * Calls `onChange` for every request change the gateway lets this user see
 * (server-sent events, same-origin, the session cookie authenticates them), and
 * answers whether the stream is live: while it is not, changes may be missed.
 */
export function useRequestEvents(onChange: (change: RequestChange) => void): LiveState {
  const [state, setState] = useState<LiveState>(stream.state);
  const handler = useRef(onChange);
  handler.current = onChange;

  useEffect(() => subscribe((change) => handler.current(change), setState), []);

  return state;
}
