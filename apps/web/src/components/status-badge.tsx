import type { RequestStatus } from '../api.ts';

const LABELS: Record<RequestStatus, string> = {
  pending: 'pending',
  approved: 'approved',
  executing: 'executing',
  succeeded: 'succeeded',
  failed: 'failed',
  rejected: 'rejected',
  expired: 'expired',
  cancelled: 'cancelled',
};

export function StatusBadge({ status }: { status: RequestStatus }) {
  return <span className={`badge badge-${status}`} data-status={status}>{LABELS[status] ?? status}</span>;
}
