import { reviewReshare, reviewRotate, type ReshareReview, type ReviewGroup, type ReviewPerson, type RotateReview } from '../../../../libs/custodian/index.ts';
import { api, type Credential, type CredentialHealth, type QgRequest, type User } from '../api.ts';
import { requestNames, useName } from '../session.tsx';
import { useLoad } from '../use-load.ts';
import { ErrorMessage, Loading } from './feedback.tsx';

/** The operation kinds that change a credential's custody (spec §4a). */
export const CUSTODY_KINDS = ['credential.reshare', 'credential.rotate'] as const;

export function isCustodyRequest(request: QgRequest): boolean {
  const kind: string = request.digestInput.operation.kind;
  return (CUSTODY_KINDS as readonly string[]).includes(kind);
}

interface ReviewSources {
  credential: Credential;
  /** null: this viewer may not read health (a requester) */
  health: CredentialHealth | null;
  /** null: this viewer may not list users (an operator) */
  users: User[] | null;
}

/** What the review needs, fetched with the viewer's own rights: what they may not read is left out, never guessed. */
async function loadSources(credentialId: string): Promise<ReviewSources> {
  const [credential, health, users] = await Promise.all([
    api.getCredential(credentialId),
    api.getCredentialHealth(credentialId).catch(() => null),
    api.listUsers().catch(() => null),
  ]);
  return { credential, health, users };
}

/** The current structure: from health (names, the key each share is sealed to, liveness), else from the credential (ids only). */
function currentGroups(sources: ReviewSources, nameOf: (id: string) => string): ReviewGroup[] {
  if (sources.health !== null) {
    return sources.health.groups.map((g) => ({
      name: g.name,
      threshold: g.threshold,
      custodians: g.custodians.map((c) => ({ userId: c.userId, username: c.username, kid: c.kid === '' ? null : c.kid, live: c.live })),
    }));
  }
  return sources.credential.sharing.groups.map((g) => ({ name: g.name, threshold: g.threshold, custodians: g.custodians.map((c) => ({ userId: c.userId, username: nameOf(c.userId), kid: null })) }));
}

function WarningList({ review }: { review: ReshareReview | RotateReview }) {
  if (review.warnings.length === 0) return null;
  return (
    <div role="alert" className="notice notice-error" data-testid="custody-warnings">
      <strong>Read this before approving: this change weakens or redirects the credential.</strong>
      <ul>
        {review.warnings.map((w, i) => (
          <li key={i} data-testid="custody-warning" data-code={w.code}>
            {w.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

function side(s: { threshold: number; size: number } | null): string {
  return s === null ? '(none)' : `${s.threshold} of ${s.size}`;
}

export function ReshareView({ review }: { review: ReshareReview }) {
  const t = review.totals;
  return (
    <>
      <WarningList review={review} />
      {review.refresh && (
        <p className="notice notice-info" data-testid="custody-refresh">
          A refresh: the same people and thresholds get new shares, and every old share becomes useless.
        </p>
      )}
      <div className="table-scroll">
        <table data-testid="custody-groups">
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Now</th>
              <th scope="col">After</th>
              <th scope="col">Added</th>
              <th scope="col">Removed</th>
              <th scope="col">Kept</th>
            </tr>
          </thead>
          <tbody>
            {review.groups.map((g) => (
              <tr key={g.name} data-testid="custody-group" data-group={g.name}>
                <th scope="row">{g.name}</th>
                <td data-testid="custody-old">{side(g.old)}</td>
                <td data-testid="custody-new">{side(g.new)}</td>
                <td data-testid="custody-added">
                  {g.added.map((c) => (
                    <div key={c.userId} data-person-id={c.userId}>
                      + {c.username} <code title={c.kid ?? ''}>{c.fingerprint}</code>
                    </div>
                  ))}
                </td>
                <td data-testid="custody-removed">
                  {g.removed.map((c) => (
                    <div key={c.userId} data-person-id={c.userId}>
                      − {c.username} <code title={c.kid ?? ''}>{c.fingerprint}</code>
                    </div>
                  ))}
                </td>
                <td data-testid="custody-kept">
                  {g.kept.map((c) => (
                    <div key={c.userId} data-person-id={c.userId}>
                      {c.username} <code title={c.kid ?? ''}>{c.fingerprint}</code>
                    </div>
                  ))}
                  {g.rekeyed.map((c) => (
                    <div key={c.userId} data-person-id={c.userId}>
                      {c.username} new key <code>{c.oldFingerprint}</code> → <code title={c.kid ?? ''}>{c.fingerprint}</code>
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="muted" data-testid="custody-totals">
        In total: threshold {t.old.threshold} → {t.new.threshold}, custodians {t.old.custodians} → {t.new.custodians}, groups {t.old.groups} → {t.new.groups}.
      </p>
    </>
  );
}

function show(value: unknown): string {
  return value === undefined ? '(none)' : JSON.stringify(value);
}

function RotateView({ review }: { review: RotateReview }) {
  return (
    <>
      <WarningList review={review} />
      <p data-testid="custody-secret">
        {review.secret === 'unchanged'
          ? 'The secret stays as it is.'
          : review.secret === 'generated'
            ? `A new key pair is generated inside the gateway (${review.generateAlg ?? '?'}); nobody sees its private key.`
            : 'A new secret, sealed in the requester’s browser or CLI to a one-time intake key.'}
      </p>
      {review.config === null ? (
        <p>The config stays as it is.</p>
      ) : (
        <ul className="plain" data-testid="custody-config-diff">
          {review.config.added.map((c) => (
            <li key={`+${c.key}`}>
              + <code>{c.key}</code>: <code>{show(c.to)}</code>
            </li>
          ))}
          {review.config.removed.map((c) => (
            <li key={`-${c.key}`}>
              − <code>{c.key}</code>: <code>{show(c.from)}</code>
            </li>
          ))}
          {review.config.modified.map((c) => (
            <li key={`~${c.key}`}>
              ~ <code>{c.key}</code>: <code>{show(c.from)}</code> → <code>{show(c.to)}</code>
            </li>
          ))}
          {!review.config.changed && <li>The config is sent again unchanged.</li>}
        </ul>
      )}
    </>
  );
}

/**
 * Above the decision panel of a custody request: what the change does to who holds the
 * credential (libs/custodian `reviewReshare` / `reviewRotate`, the same review the CLI prints).
 */
export function CustodyReview({ request }: { request: QgRequest }) {
  const credentialId = request.digestInput.credential.id;
  const loaded = useLoad(() => loadSources(credentialId), [credentialId]);
  const nameOf = useName();
  if (loaded.data === undefined) {
    return loaded.error !== undefined ? <ErrorMessage title="The custody review could not be loaded" error={loaded.error} onRetry={loaded.reload} /> : <Loading what="the custody review" />;
  }
  const sources = loaded.data;
  const carried = requestNames(request);
  const name = (id: string) => nameOf(id, 'user', carried);
  const operation = request.digestInput.operation;
  const kind: string = operation.kind;
  const params = operation.params as Record<string, unknown>;
  let review: ReshareReview | RotateReview;
  if (kind === 'credential.rotate') {
    review = reviewRotate({ currentConfig: sources.credential.config, params });
  } else {
    const users = sources.users === null ? null : new Map(sources.users.map((u) => [u.id, u]));
    const healthNames = new Map((sources.health?.groups ?? []).flatMap((g) => g.custodians.map((c) => [c.userId, c.username] as const)));
    const person = (userId: string): ReviewPerson | undefined => {
      if (users !== null) {
        const u = users.get(userId);
        return u === undefined ? undefined : { username: u.username, kid: u.encryptionThumbprint ?? null };
      }
      const known = healthNames.get(userId) ?? carried.get(userId);
      return known !== undefined ? { username: known } : { username: name(userId) };
    };
    review = reviewReshare({ current: currentGroups(sources, name), proposed: params['sharing'], person, requesterId: request.digestInput.requester, directoryComplete: users !== null });
  }
  const stale = sources.credential.version !== request.digestInput.credential.version;
  return (
    <section className="card" aria-labelledby="custody-title" data-testid="custody-review" data-kind={kind}>
      <h2 id="custody-title">{kind === 'credential.rotate' ? 'What this rotation changes' : 'Who will hold this credential'}</h2>
      {stale && (
        <p className="notice notice-warning">
          The request was made against version {request.digestInput.credential.version}; the credential is now at version {sources.credential.version}. The comparison below is with
          the current version.
        </p>
      )}
      {review.kind === 'credential.rotate' ? <RotateView review={review} /> : <ReshareView review={review} />}
      {sources.users === null && review.kind === 'credential.reshare' && (
        <p className="muted">Key fingerprints are those the request names; only a security lead’s view checks them against each person’s enrolled key.</p>
      )}
    </section>
  );
}
