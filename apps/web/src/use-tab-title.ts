import { useEffect } from 'react';
import { api } from './api.ts';
import { useLoad } from './use-load.ts';
import { useRequestEvents } from './use-request-events.ts';

/**
 * The tab's title: the page, and for a custodian how many requests wait for their
 * decision, "(2) Inbox · quorumgate", kept current by the live updates (so a tab in the
 * background says when something arrives).
 */
export function useTabTitle(page: string, countInbox: boolean): void {
  const inbox = useLoad(() => (countInbox ? api.listRequests({ approvable: true }).then((r) => r.length) : Promise.resolve(0)), [countInbox]);
  useRequestEvents(() => {
    if (countInbox) inbox.reload();
  });
  const waiting = inbox.data ?? 0;
  useEffect(() => {
    document.title = `${waiting > 0 ? `(${waiting}) ` : ''}${page} · quorumgate`;
  }, [waiting, page]);
}
