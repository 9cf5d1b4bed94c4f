import { useState } from 'react';
import { api, ApiError, describeError, type ConstraintValue, type Credential, type OperationRule, type Policy } from '../api.ts';
import { ConfirmPrompt } from '../components/confirm-row.tsx';
import { ErrorMessage, Loading, Notice } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { PersonName } from '../components/person-name.tsx';
import { navigate } from '../router.ts';
import { useSession } from '../session.tsx';
import { useLoad } from '../use-load.ts';
import { useSubmit } from '../use-submit.ts';

function constraintText(value: ConstraintValue): string {
  if (Array.isArray(value)) return value.length === 0 ? 'nothing' : `one of ${value.map((v) => `“${v}”`).join(', ')}`;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length === 0 ? 'nothing' : entries.map(([k, v]) => `${k} matching “${v}”`).join(', ');
  }
  return `matching “${value}”`;
}

function OperationItem({ rule }: { rule: OperationRule }) {
  const constraints = Object.entries(rule.constraints ?? {});
  return (
    <li>
      <strong>{rule.kind}</strong>
      {rule.kind === 'reveal' && <span className="tag tag-warn">break-glass: hands the secret to the requester</span>}
      {constraints.length === 0 ? (
        <span className="muted"> with any parameters</span>
      ) : (
        <ul>
          {constraints.map(([key, value]) => (
            <li key={key}>
              <code>{key}</code>: {constraintText(value)}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

function minutes(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  if (seconds % 60 === 0) return `${seconds / 60} minute${seconds === 60 ? '' : 's'}`;
  return `${seconds} seconds`;
}

function Approvers({ policy, credential }: { policy: Policy; credential: Credential | null }) {
  const groups = policy.approvals.groups ?? [];
  return (
    <section className="card stack" aria-labelledby="approvers-title">
      <h2 id="approvers-title">Who approves</h2>
      <p data-testid="approval-rule">
        At least <strong>{policy.approvals.min}</strong> of the credential’s custodians approve
        {groups.map((g) => `, ${g.min} of them from group ${g.group}`).join('')}. A reject by any custodian vetoes the request.{' '}
        {policy.approvals.allowRequesterApproval === true ? 'A requester who is a custodian may approve their own request.' : 'Nobody approves their own request.'}
      </p>
      {credential === null ? (
        <p className="muted">The credential’s custodians are not visible to you.</p>
      ) : (
        <ul className="plain" data-testid="policy-custodians">
          {credential.sharing.groups.map((g) => (
            <li key={g.name}>
              {credential.sharing.groups.length > 1 && <strong>{g.name} (any {g.threshold}): </strong>}
              {g.custodians.map((c, i) => (
                <span key={c.userId}>
                  {i > 0 && ', '}
                  <PersonName id={c.userId} kind="user" />
                </span>
              ))}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Requesters({ policy }: { policy: Policy }) {
  const r = policy.requesters;
  if (r === null) return <p>Anyone holding the <code>requester</code> role.</p>;
  const roles = r.roles ?? [];
  const users = r.users ?? [];
  const accounts = r.serviceAccounts ?? [];
  if (roles.length + users.length + accounts.length === 0) return <p>Nobody: no request can be submitted under this policy.</p>;
  return (
    <ul className="plain" data-testid="policy-requesters">
      {roles.length > 0 && (
        <li>
          Anyone holding the role{roles.length === 1 ? '' : 's'} {roles.map((x) => x).join(', ')}
        </li>
      )}
      {users.map((id) => (
        <li key={id}>
          User <PersonName id={id} kind="user" />
        </li>
      ))}
      {accounts.map((id) => (
        <li key={id}>
          Service account <PersonName id={id} kind="service_account" />
        </li>
      ))}
    </ul>
  );
}

/** The one thing edited in place: how many approvals a request needs, from the credential's thresholds to its number of custodians. */
function RequiredApprovals({ policy, credential, onSaved }: { policy: Policy; credential: Credential | null; onSaved: () => void }) {
  const [min, setMin] = useState(policy.approvals.min);
  const { busy, error, run } = useSubmit();
  const lowest = credential?.threshold ?? 1;
  const highest = credential?.custodians.length ?? 255;
  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          await api.updatePolicyMin(policy.id, min);
          onSaved();
        });
      }}
    >
      <label>
        Approvals required (from {lowest} to {highest})
        <input name="min" type="number" min={lowest} max={highest} value={min} onChange={(e) => setMin(Number(e.target.value))} />
      </label>
      {error !== null && <Notice tone="error" role="alert">{error}</Notice>}
      <div>
        <button type="submit" disabled={busy || min === policy.approvals.min}>
          {busy ? 'Saving…' : 'Save approvals'}
        </button>
      </div>
    </form>
  );
}

function DeletePolicy({ policy }: { policy: Policy }) {
  const [asking, setAsking] = useState(false);
  const { busy, error, run } = useSubmit();
  const describe = (err: unknown) =>
    err instanceof ApiError && err.code === 'IN_USE'
      ? `This policy cannot be deleted yet: ${err.detail}. Wait until those requests have ended, or cancel them.`
      : describeError(err);
  if (!asking) {
    return (
      <div>
        <button type="button" className="danger" onClick={() => setAsking(true)}>
          Delete this policy
        </button>
      </div>
    );
  }
  return (
    <ConfirmPrompt
      testId="delete-policy"
      question={`Delete policy ${policy.name}?`}
      confirmLabel={`Delete ${policy.name}`}
      busyLabel="Deleting…"
      danger
      busy={busy}
      error={error}
      onConfirm={() =>
        void run(async () => {
          await api.deletePolicy(policy.id);
          navigate('/policies');
        }, describe)
      }
      onCancel={() => setAsking(false)}
    >
      <p>No new request can use it afterwards. Past requests keep naming it. It is refused while a request under it is pending, approved or running.</p>
    </ConfirmPrompt>
  );
}

/** One policy in plain words: what it allows, on which credential, who may ask and who approves. */
export function PolicyPage({ id }: { id: string }) {
  const session = useSession();
  const policy = useLoad(() => api.getPolicy(id), [id]);
  const credential = useLoad(
    async () => (policy.data === undefined ? undefined : api.getCredential(policy.data.credentialId).catch(() => null)),
    [policy.data?.credentialId],
  );

  if (policy.error !== undefined) {
    return (
      <section className="stack">
        <h1>Policy</h1>
        <ErrorMessage title="This policy could not be loaded" error={policy.error} onRetry={policy.reload} />
        <p>
          <Link href="/policies">All policies</Link>
        </p>
      </section>
    );
  }
  if (policy.data === undefined) return <Loading what="the policy" />;
  const p = policy.data;
  const c = credential.data ?? null;

  return (
    <section className="stack" data-testid="policy-page">
      <p>
        <Link href="/policies">← All policies</Link>
      </p>
      <h1>
        Policy <code>{p.name}</code>
      </h1>
      <dl className="fields">
        <dt>Credential</dt>
        <dd data-testid="policy-credential">
          {c !== null ? (
            <Link href={`/credentials/${c.id}`}>
              <code>{c.name}</code> ({c.kind})
            </Link>
          ) : credential.loading ? (
            '…'
          ) : (
            'not visible to you'
          )}
        </dd>
        <dt>Requests wait for approval</dt>
        <dd>up to {minutes(p.requestTtlSeconds)}, then expire</dd>
        <dt>An approved operation may run</dt>
        <dd>{p.operationTimeoutSeconds === null ? 'up to the gateway’s default time limit' : `up to ${minutes(p.operationTimeoutSeconds)}`}</dd>
      </dl>
      <section className="card stack" aria-labelledby="operations-title">
        <h2 id="operations-title">What may be requested</h2>
        <ul data-testid="policy-operations">
          {p.operations.map((o, i) => (
            <OperationItem key={i} rule={o} />
          ))}
        </ul>
      </section>
      <section className="card stack" aria-labelledby="requesters-title">
        <h2 id="requesters-title">Who may request</h2>
        <Requesters policy={p} />
      </section>
      <Approvers policy={p} credential={c} />
      {session.has('security_lead') && (
        <section className="card stack" aria-labelledby="change-title">
          <h2 id="change-title">Change</h2>
          {p.disabledReason === 'policy_outdated' && (
            <Notice tone="warning">This policy asks more approvals than the credential now has custodians: requests under it are refused until you lower the number below.</Notice>
          )}
          <RequiredApprovals policy={p} credential={c} onSaved={policy.reload} />
          {p.custody === true ? (
            <Notice>This is the credential’s custody policy: re-shares and rotations go through it. It can be tightened, never deleted.</Notice>
          ) : (
            <>
              <Notice>Apart from the number of approvals, a policy is not edited in place: requests bind to it by its digest. Create the new policy, then delete this one.</Notice>
              <DeletePolicy policy={p} />
            </>
          )}
        </section>
      )}
    </section>
  );
}
