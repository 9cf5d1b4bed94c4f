import { useRef, useState, type FormEvent, type ReactNode } from 'react';
import { CustodianError, prepareDecision, type CustodianErrorCode } from '../../../../libs/custodian/index.ts';
import { api, ApiError, type QgRequest } from '../api.ts';
import { useSession } from '../session.tsx';
import { useSubmit } from '../use-submit.ts';
import type { Verification } from '../verify-request.ts';
import { ConfirmPrompt } from './confirm-row.tsx';
import { useNow } from './countdown.tsx';
import { Link } from './link.tsx';
import { operationSummary } from './operation-view.tsx';

const REFUSALS: Record<CustodianErrorCode, string> = {
  DIGEST_INPUT_INVALID: 'The request’s digest input is malformed. Nothing was signed.',
  DIGEST_MISMATCH: 'The request does not match its digest: it may have been altered. Nothing was signed.',
  REQUEST_EXPIRED: 'The request has expired. Nothing was signed.',
  REQUEST_KEY_INVALID: 'The gateway sent an invalid request key, so your share was not sealed to it. Nothing was sent.',
  SHARE_ENVELOPE_INVALID: 'Your share did not open with the keys in this browser. Check “My keys”: these may not be the keys you enrolled.',
  SHARE_HEADER_MISMATCH: 'Your share is for another credential or version than this request. Nothing was sent.',
  BACKUP_INVALID: 'The key backup is invalid.',
};

/** This browser's own refusals in words; the gateway's are worded by messages.ts. */
function explain(error: unknown): string | undefined {
  return error instanceof CustodianError ? REFUSALS[error.code] : undefined;
}

/**
 * Approve or reject, entirely in this browser: fetch and open my share,
 * recompute the digest, sign the statement, re-seal the share to the request
 * key (libs/custodian `prepareDecision`), then submit. The request passed in
 * is exactly the one on screen. Approving asks first, restating the operation in
 * one line. While the page may be out of date (`stale`: its live updates dropped
 * and it has not reloaded since) no decision is offered; after the gateway refuses
 * one, the request is reloaded so the page shows it as it now is. One notice at a
 * time: each replaces the one before.
 */
export function DecisionPanel({
  request,
  verification,
  onDecided,
  stale = false,
  credentialName,
}: {
  request: QgRequest;
  verification: Verification | null;
  onDecided: () => void;
  stale?: boolean;
  credentialName?: string;
}) {
  const { me, localKeys, keyState } = useSession();
  const { busy, error, setError, run } = useSubmit();
  const [deciding, setDeciding] = useState<'approve' | 'reject'>('approve');
  const [confirming, setConfirming] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const dialog = useRef<HTMLDialogElement>(null);
  const now = useNow();

  const isCustodian = request.custodians.includes(me.id);
  const mine = request.approvals.find((a) => a.userId === me.id);
  if (!isCustodian) return null;

  const refusals = verification?.refusals ?? [];
  const refused = refusals.length > 0;
  const expired = Date.parse(request.digestInput.expiresAt) <= now;
  const keysReady = keyState === 'ok' && localKeys != null && me.keys !== null;
  const open = request.status === 'pending' && mine === undefined && done === null;
  const canDecide = open && verification !== null && !refused && !expired && keysReady && !busy && !stale;

  const decide = (decision: 'approve' | 'reject', why?: string) => {
    const enrolled = me.keys;
    if (localKeys == null || enrolled === null) return;
    setDeciding(decision);
    setDone(null);
    void run(async () => {
      try {
        const shareEnvelope = decision === 'approve' ? await api.getShare(request.id) : undefined;
        const prepared = await prepareDecision({
          request,
          shareEnvelope,
          decision,
          userId: me.id,
          keys: {
            encryptionPrivateKey: localKeys.keys.encryption.privateKey,
            signingPrivateKey: localKeys.keys.signing.privateKey,
            signingKid: enrolled.signingThumbprint,
          },
          nowSeconds: Math.floor(Date.now() / 1000),
        });
        const answer = await api.decide(request.id, {
          decision,
          statement: prepared.statement,
          ...(prepared.share !== undefined ? { share: prepared.share } : {}),
          ...(why !== undefined && why !== '' ? { reason: why } : {}),
        });
        setConfirming(false);
        setDone(
          decision === 'approve'
            ? `Your approval was recorded: ${answer.request.approvalsReceived} of ${answer.request.approvalsRequired}. The request is ${answer.request.status}.`
            : `Your rejection was recorded. The request is ${answer.request.status}.`,
        );
        onDecided();
      } catch (err) {
        // The gateway said no: what it refused may have changed under this page, so show the request as it now is.
        setConfirming(false);
        if (err instanceof ApiError) onDecided();
        throw err;
      }
    }, explain);
  };

  const submitReject = (e: FormEvent) => {
    e.preventDefault();
    if (reason.trim().length < 3) return;
    dialog.current?.close();
    decide('reject', reason.trim());
  };

  // One notice: the latest thing that happened, else where the request stands for me.
  let notice: ReactNode = null;
  if (error !== null) {
    notice = (
      <div role="alert" className="notice notice-error" data-testid="decision-error">
        {error}
      </div>
    );
  } else if (done !== null) {
    // The server-sent change can overtake the POST's own answer: the confirmation wins over the reloaded state.
    notice = (
      <div role="status" className="notice notice-success" data-testid="decision-done">
        {done}
      </div>
    );
  } else if (mine !== undefined) {
    notice = (
      <div className="notice notice-info" role="status" data-testid="decision-mine">
        You {mine.decision === 'approve' ? 'approved' : 'rejected'} this request{mine.valid ? '' : `, but it was not counted: ${mine.invalidReason ?? 'invalid'}`}.
      </div>
    );
  } else if (open && refused) {
    notice = (
      <div role="alert" className="notice notice-error" data-testid="refusal">
        <strong>This browser refuses to sign this request.</strong>
        <ul>
          {refusals.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
        Do not approve it. Tell your security team, quoting request {request.id}.
      </div>
    );
  } else if (open && stale) {
    notice = (
      <div className="notice notice-warning" role="status" data-testid="decision-stale">
        This page may be out of date: decisions wait until it has reloaded the request.
      </div>
    );
  } else if (open && expired) {
    notice = <div className="notice notice-warning">The request has expired: it can no longer be decided.</div>;
  } else if (open && !keysReady && keyState !== 'checking') {
    notice = (
      <div className="notice notice-warning" role="status">
        This browser holds no usable key for you, so it cannot sign. <Link href="/keys">Go to My keys</Link>.
      </div>
    );
  } else if (open && verification === null) {
    notice = <p role="status">Checking the request before you can decide…</p>;
  }

  if (!open && notice === null) return null;
  const oneLine = `Approve and sign: ${operationSummary(request.digestInput.operation)}${credentialName !== undefined ? ` with ${credentialName}` : ''}`;

  return (
    <section className="card decision" aria-labelledby="decision-title" data-testid="decision-panel">
      <h2 id="decision-title">Your decision</h2>
      {notice}
      {open &&
        (confirming ? (
          <ConfirmPrompt
            testId="approve-confirm"
            question={oneLine}
            confirmLabel="Approve and sign"
            busyLabel="Opening your share and signing…"
            cancelLabel="Not now"
            busy={busy}
            error={null}
            onConfirm={() => decide('approve')}
            onCancel={() => setConfirming(false)}
          />
        ) : (
          <div className="actions">
            <button
              type="button"
              className="approve"
              disabled={!canDecide}
              onClick={() => {
                setError(null);
                setConfirming(true);
              }}
            >
              {busy && deciding === 'approve' ? 'Opening your share and signing…' : 'Approve…'}
            </button>
            <button
              type="button"
              className="danger"
              disabled={!canDecide}
              onClick={() => {
                setReason('');
                dialog.current?.showModal();
              }}
            >
              {busy && deciding === 'reject' ? 'Signing the rejection…' : 'Reject…'}
            </button>
          </div>
        ))}
      <dialog ref={dialog} aria-labelledby="reject-title">
        <form method="dialog" className="stack" onSubmit={submitReject}>
          <h2 id="reject-title">Reject this request</h2>
          <p>A rejection vetoes the request: it cannot run. The requester sees your reason.</p>
          <label>
            Reason
            <textarea required minLength={3} maxLength={2000} rows={3} value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
          </label>
          <div className="actions">
            <button type="submit" className="danger" disabled={reason.trim().length < 3}>
              Reject request
            </button>
            <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
              Keep it pending
            </button>
          </div>
        </form>
      </dialog>
    </section>
  );
}
