import { useState, type FormEvent } from 'react';
import { reviewReshare, type ReviewGroup } from '../../../../libs/custodian/index.ts';
import { api, describeError, type AffectedCredentials, type Credential, type CredentialHealth, type User } from '../api.ts';
import { navigate } from '../router.ts';
import { useSubmit } from '../use-submit.ts';
import { ReshareView } from './custody-review.tsx';
import { Notice } from './feedback.tsx';
import { FormFooter } from './form-parts.tsx';
import { Link } from './link.tsx';

interface GroupDraft {
  name: string;
  threshold: number;
  custodians: string[];
}

type Sharing = { threshold: number; custodians: { userId: string; kid: string }[] } | { groups: { name: string; threshold: number; custodians: { userId: string; kid: string }[] }[] };

/**
 * `params.sharing` of a `credential.reshare` (spec §4a): each custodian with the
 * thumbprint of the key their share will be sealed to, `kidOf` (their enrolled key).
 * One group named `custodians` is sent in the flat form, as the credential has it.
 */
export function sharingParams(groups: readonly GroupDraft[], kidOf: (userId: string) => string | null): Sharing {
  const withKids = (ids: string[]) =>
    ids.map((userId) => {
      const kid = kidOf(userId);
      if (kid === null) throw new Error('every custodian needs enrolled keys');
      return { userId, kid };
    });
  const only = groups[0];
  if (groups.length === 1 && only !== undefined && only.name === 'custodians') return { threshold: only.threshold, custodians: withKids(only.custodians) };
  return { groups: groups.map((g) => ({ name: g.name, threshold: g.threshold, custodians: withKids(g.custodians) })) };
}

/** The current structure as health shows it, for the preview. */
function currentOf(credential: Credential, health: CredentialHealth | null, nameOf: (id: string) => string): ReviewGroup[] {
  if (health !== null) {
    return health.groups.map((g) => ({ name: g.name, threshold: g.threshold, custodians: g.custodians.map((c) => ({ userId: c.userId, username: c.username, kid: c.kid === '' ? null : c.kid, live: c.live })) }));
  }
  return credential.sharing.groups.map((g) => ({ name: g.name, threshold: g.threshold, custodians: g.custodians.map((c) => ({ userId: c.userId, username: nameOf(c.userId), kid: null })) }));
}

/**
 * A security lead's re-share (issue 16 item 3): choose the custodians by name and the
 * threshold per group; each custodian's `kid` is filled in from the key they enrolled.
 * Shows the same review the approvers will see before it is submitted, then opens the
 * request page.
 */
export function ReshareForm({ credential, health, users, onClose }: { credential: Credential; health: CredentialHealth | null; users: User[]; onClose: () => void }) {
  const [groups, setGroups] = useState<GroupDraft[]>(() => credential.sharing.groups.map((g) => ({ name: g.name, threshold: g.threshold, custodians: g.custodians.map((c) => c.userId) })));
  const [reason, setReason] = useState('');
  const { busy, error, setError, run } = useSubmit();
  const byId = new Map(users.map((u) => [u.id, u]));
  const nameOf = (id: string) => byId.get(id)?.username ?? id.slice(0, 8);
  const kidOf = (id: string) => byId.get(id)?.encryptionThumbprint ?? null;
  const candidates = users.filter((u) => u.roles.includes('operator') && !u.disabled);
  const update = (at: number, change: Partial<GroupDraft>) => setGroups((gs) => gs.map((g, i) => (i === at ? { ...g, ...change } : g)));
  const toggle = (at: number, id: string, on: boolean) =>
    setGroups((gs) => gs.map((g, i) => (i !== at ? g : { ...g, custodians: on ? [...g.custodians, id] : g.custodians.filter((x) => x !== id) })));

  let preview: ReturnType<typeof reviewReshare> | null = null;
  let previewError: string | null = null;
  try {
    preview = reviewReshare({
      current: currentOf(credential, health, nameOf),
      proposed: sharingParams(groups, kidOf),
      person: (id) => {
        const u = byId.get(id);
        return u === undefined ? undefined : { username: u.username, kid: u.encryptionThumbprint ?? null };
      },
      requesterId: '',
    });
  } catch (e) {
    previewError = describeError(e);
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    for (const g of groups) {
      if (g.custodians.length === 0) return setError(`Group “${g.name}” needs at least one custodian.`);
      if (g.threshold < 1 || g.threshold > g.custodians.length) return setError(`Group “${g.name}”: the threshold must be between 1 and ${g.custodians.length}.`);
      const keyless = g.custodians.filter((id) => kidOf(id) === null);
      if (keyless.length > 0) return setError(`${keyless.map(nameOf).join(', ')} ha${keyless.length === 1 ? 's' : 've'} no enrolled keys: a share cannot be sealed to them.`);
    }
    if (reason.trim() === '') return setError('Say why: the custodians read it before approving.');
    await run(async () => {
      const submitted = await api.submitCustodyRequest({ credential: credential.id, operation: { kind: 'credential.reshare', params: { sharing: sharingParams(groups, kidOf) } }, reason: reason.trim() });
      navigate(`/requests/${submitted.id}`);
    });
  };

  return (
    <form className="card stack" onSubmit={(e) => void submit(e)} aria-labelledby="reshare-title" data-testid="reshare-form">
      <h2 id="reshare-title">
        Re-share <code>{credential.name}</code> (version {credential.version})
      </h2>
      <p className="hint">
        The current custodians approve with their shares; the gateway then seals the secret under a new key and splits it to the people below, each to the key they have
        enrolled now. Every old share becomes useless.
      </p>
      {groups.map((group, at) => {
        const elsewhere = new Set(groups.flatMap((g, i) => (i === at ? [] : g.custodians)));
        return (
          <fieldset key={group.name} data-testid={`reshare-group-${at}`} className="stack">
            <legend>{groups.length > 1 ? `Group “${group.name}”` : 'Custodians'}</legend>
            <ul className="plain">
              {candidates.map((u) => (
                <li key={u.id}>
                  <label className="checkbox">
                    <input
                      type="checkbox"
                      name="reshare-custodian"
                      value={u.username}
                      disabled={(u.encryptionThumbprint ?? null) === null || elsewhere.has(u.id)}
                      checked={group.custodians.includes(u.id)}
                      onChange={(e) => toggle(at, u.id, e.target.checked)}
                    />{' '}
                    {u.displayName} <span className="muted">({u.username})</span>{' '}
                    {(u.encryptionThumbprint ?? null) === null ? <span className="tag tag-warn">no keys: cannot hold a share</span> : <code className="muted">{u.encryptionThumbprint?.slice(0, 16)}</code>}
                  </label>
                </li>
              ))}
            </ul>
            <label className="narrow">
              Threshold (k)
              <input name={`reshare-threshold-${at}`} type="number" min={1} max={Math.max(1, group.custodians.length)} value={group.threshold} onChange={(e) => update(at, { threshold: Number(e.target.value) })} />
            </label>
          </fieldset>
        );
      })}
      <label>
        Reason
        <input name="reshare-reason" required maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="alice re-enrolled her keys after losing her laptop" />
      </label>
      <section aria-label="What the approvers will see" data-testid="reshare-preview">
        <h3>What the approvers will see</h3>
        {preview !== null ? <ReshareView review={preview} /> : <Notice tone="warning">{previewError}</Notice>}
      </section>
      <FormFooter error={error} busy={busy} busyLabel="Submitting the re-share request…" label="Submit re-share request" onCancel={onClose} />
    </form>
  );
}

/**
 * The lost-key runbook's last step (issue 16 item 8): for each credential where a custodian
 * re-enrolled (`keys_changed`), one re-share request with the same people and thresholds,
 * each share sealed to the key its custodian has enrolled now.
 */
export function AffectedCredentialsPanel({ affected, onSubmitted }: { affected: AffectedCredentials['credentials']; onSubmitted: () => void }) {
  const { busy, error, run } = useSubmit();
  const [submitted, setSubmitted] = useState<{ name: string; id: string }[]>([]);
  const rekeyable = affected.filter((c) => c.groups.every((g) => g.custodians.every((cu) => cu.enrolledKid !== null)) && c.groups.some((g) => g.custodians.some((cu) => cu.reasons.includes('keys_changed'))));
  if (affected.length === 0) return null;
  const reshareAll = () =>
    void run(async () => {
      const done: { name: string; id: string }[] = [];
      for (const c of rekeyable) {
        const groups = c.groups.map((g) => ({ name: g.name, threshold: g.threshold, custodians: g.custodians.map((cu) => cu.userId) }));
        const kids = new Map(c.groups.flatMap((g) => g.custodians.map((cu) => [cu.userId, cu.enrolledKid] as const)));
        const lost = c.groups.flatMap((g) => g.custodians.filter((cu) => cu.reasons.includes('keys_changed')).map((cu) => cu.username));
        const request = await api.submitCustodyRequest({
          credential: c.credentialId,
          operation: { kind: 'credential.reshare', params: { sharing: sharingParams(groups, (id) => kids.get(id) ?? null) } },
          reason: `re-share to the keys ${lost.join(', ')} enrolled again (lost-key runbook)`,
        });
        done.push({ name: c.name, id: request.id });
        setSubmitted([...done]);
      }
      onSubmitted();
    });
  return (
    <section className="card stack" aria-labelledby="affected-title" data-testid="affected-credentials">
      <h2 id="affected-title">Credentials that lost a live share</h2>
      <ul className="plain">
        {affected.map((c) => (
          <li key={c.credentialId} data-testid="affected-credential" data-credential={c.name}>
            <code>{c.name}</code> (margin {c.margin}):{' '}
            {c.groups
              .flatMap((g) => g.custodians)
              .filter((cu) => !cu.live)
              .map((cu) => `${cu.username} (${cu.reasons.join(', ')})`)
              .join('; ')}
          </li>
        ))}
      </ul>
      {rekeyable.length > 0 && (
        <div className="actions">
          <button type="button" disabled={busy} onClick={reshareAll} data-testid="reshare-all-affected">
            {busy ? 'Submitting…' : `Re-share all affected (${rekeyable.length}) to the new keys`}
          </button>
        </div>
      )}
      <p className="hint">
        One request per credential, same people and thresholds, each share sealed to the key its custodian enrolled now; the current custodians approve each. A custodian who is
        disabled or has no keys needs a re-share without them: use the Re-share button on that credential.
      </p>
      {error !== null && <Notice tone="error" role="alert">{error}</Notice>}
      {submitted.length > 0 && (
        <ul className="plain" data-testid="affected-submitted">
          {submitted.map((s) => (
            <li key={s.id}>
              <code>{s.name}</code>: <Link href={`/requests/${s.id}`}>request {s.id.slice(0, 8)}</Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
