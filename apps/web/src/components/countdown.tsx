import { useEffect, useState } from 'react';

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(sec).padStart(2, '0')}s`;
}

export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** "expires in 42m 10s", ticking; "expired" once past. */
export function Countdown({ until }: { until: string }) {
  const now = useNow();
  const at = Date.parse(until);
  const left = at - now;
  const exact = new Date(at).toLocaleString();
  if (Number.isNaN(at)) return <span>unknown expiry</span>;
  if (left <= 0) return <time dateTime={until} title={exact} className="expired">expired</time>;
  return (
    <time dateTime={until} title={exact} className={left < 5 * 60_000 ? 'expiring' : undefined}>
      expires in {formatDuration(left)}
    </time>
  );
}
