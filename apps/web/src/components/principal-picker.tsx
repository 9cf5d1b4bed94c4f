import { useEffect, useId, useState } from 'react';
import { api, describeError, type DirectoryEntry, type PrincipalKind } from '../api.ts';
import { useName } from '../session.tsx';

/** How long typing pauses before the directory is asked. */
const SEARCH_DELAY_MS = 200;
const RESULTS = 20;

function entryLabel(e: DirectoryEntry): string {
  return e.username === undefined || e.username === e.name ? e.name : `${e.name} (${e.username})`;
}

/**
 * Chooses users or service accounts by name from the gateway's directory (security
 * leads, admins, auditors): type part of a name, pick from the matches. The chosen
 * ones show by name with a remove button; the form receives their ids. Disabled users
 * and revoked accounts are not offered.
 */
export function PrincipalPicker({
  label,
  kind,
  chosen,
  onChange,
  testId,
}: {
  label: string;
  kind: PrincipalKind;
  chosen: readonly string[];
  onChange: (ids: string[]) => void;
  testId?: string;
}) {
  const id = useId();
  const name = useName();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<DirectoryEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Names of the entries picked here, for ones the session does not know yet.
  const [picked, setPicked] = useState<Map<string, string>>(() => new Map());

  useEffect(() => {
    if (query.trim() === '') {
      setResults(null);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      api.searchDirectory({ q: query.trim(), kind, limit: RESULTS }).then(
        (page) => {
          if (!live) return;
          setError(null);
          setResults(page.entries.filter((e) => e.active));
        },
        (err: unknown) => live && setError(describeError(err)),
      );
    }, SEARCH_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [query, kind]);

  const add = (e: DirectoryEntry) => {
    setPicked((m) => new Map(m).set(e.id, entryLabel(e)));
    if (!chosen.includes(e.id)) onChange([...chosen, e.id]);
  };
  const labelOf = (pid: string) => picked.get(pid) ?? name(pid, kind);
  const what = kind === 'user' ? 'user' : 'service account';

  return (
    <div className="stack picker" data-testid={testId}>
      <label htmlFor={`${id}-q`}>{label}</label>
      {chosen.length > 0 && (
        <ul className="plain chosen" aria-label={`${label}: chosen`}>
          {chosen.map((pid) => (
            <li key={pid} className="tag" data-testid="picked" data-person-id={pid}>
              {labelOf(pid)}{' '}
              <button type="button" className="link-button" aria-label={`Remove ${labelOf(pid)}`} onClick={() => onChange(chosen.filter((x) => x !== pid))}>
                remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <input
        id={`${id}-q`}
        type="search"
        autoComplete="off"
        spellCheck={false}
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        placeholder={`Type part of a ${what}’s name`}
        aria-describedby={`${id}-status`}
      />
      <span id={`${id}-status`} className="hint" role="status">
        {error !== null
          ? `The directory could not be searched: ${error}`
          : results === null
            ? ''
            : results.length === 0
              ? `No active ${what} matches “${query.trim()}”.`
              : `${results.length}${results.length === RESULTS ? '+' : ''} match${results.length === 1 ? '' : 'es'}: choose below.`}
      </span>
      {results !== null && results.length > 0 && (
        <ul className="plain picker-results" aria-label={`Matching ${what}s`}>
          {results.map((e) => (
            <li key={e.id}>
              <button type="button" className="secondary small" disabled={chosen.includes(e.id)} onClick={() => add(e)} data-testid="pick">
                {chosen.includes(e.id) ? `${entryLabel(e)}: chosen` : `Add ${entryLabel(e)}`}
              </button>{' '}
              {e.roles.length > 0 && <span className="muted">{e.roles.join(', ')}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
