import type { LiveState } from '../use-request-events.ts';

const TEXT: Record<LiveState, string> = {
  connecting: 'Connecting to live updates…',
  live: 'Live',
  reconnecting: 'Live updates interrupted, reconnecting…',
};

export function LiveIndicator({ state }: { state: LiveState }) {
  return (
    <span className={`live live-${state}`} role="status" data-testid="live-indicator" data-state={state}>
      <span className="live-dot" aria-hidden="true" /> {TEXT[state]}
    </span>
  );
}
