import { useState } from 'react';
import { CustodianError, prepareCheckIn, type CustodianErrorCode } from '../../../../libs/custodian/index.ts';
import { api, describeError, type Credential, type CredentialHealth } from '../api.ts';
import { Notice } from '../components/feedback.tsx';
import { LoadedTable } from '../components/loaded-table.tsx';
import { formatTime } from '../format.ts';
import { useSession } from '../session.tsx';
import { useLoad } from '../use-load.ts';

const REFUSALS: Partial<Record<CustodianErrorCode, string>> = {
  SHARE_ENVELOPE_INVALID: 'Your share or the challenge did not open with the keys in this browser. Check “My keys”: these may not be the keys your share is sealed to.',
  SHARE_HEADER_MISMATCH: 'The gateway sent a share or challenge for another credential or version. Nothing was signed.',
};

const REASONS: Record<string, string> = {
  disabled: 'your account is disabled',
  no_operator_role: 'you no longer hold the operator role',
  keys_changed: 'your share is sealed to keys you no longer have enrolled: ask for a re-share',
  check_in_overdue: 'check-in overdue',
};

interface Held {
  credential: Credential;
  index: number;
  health: CredentialHealth | null;
}

/**
 * Every credential this custodian holds a share of, when they last checked in, and a
 * one-click check-in done in this browser: the share and the challenge are opened
 * here, the commitment computed and signed here (libs/custodian `prepareCheckIn`);
 * only the signed statement leaves.
 */
export function MyCredentialsPage() {
  const { me, localKeys, keyState } = useSession();
  const held = useLoad(async (): Promise<Held[]> => {
    const mine = (await api.listCredentials()).filter((c) => c.custodians.some((cu) => cu.userId === me.id));
    return Promise.all(
      mine.map(async (credential) => ({
        credential,
        index: credential.custodians.find((cu) => cu.userId === me.id)?.index ?? 0,
        health: await api.getCredentialHealth(credential.id).catch(() => null),
      })),
    );
  }, [me.id]);
  const [busy, setBusy] = useState<string | null>(null);
  const [result, setResult] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const keysReady = keyState === 'ok' && localKeys != null && me.keys !== null;

  const checkIn = async (credential: Credential) => {
    const enrolled = me.keys;
    if (localKeys == null || enrolled === null) return;
    setBusy(credential.id);
    setResult(null);
    try {
      const share = await api.getCredentialShare(credential.id);
      const { statement } = await prepareCheckIn({
        credentialId: credential.id,
        share,
        userId: me.id,
        keys: { encryptionPrivateKey: localKeys.keys.encryption.privateKey, signingPrivateKey: localKeys.keys.signing.privateKey, signingKid: enrolled.signingThumbprint },
        nowSeconds: Math.floor(Date.now() / 1000),
      });
      const { at } = await api.checkIn(credential.id, statement);
      setResult({ tone: 'success', text: `Checked in to ${credential.name} at ${formatTime(at)}: you still hold your share and the key it is sealed to.` });
      held.reload();
    } catch (error) {
      setResult({ tone: 'error', text: error instanceof CustodianError ? (REFUSALS[error.code] ?? error.message) : describeError(error) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="stack">
      <h1>My credentials</h1>
      <p className="muted">
        The credentials you hold a share of. A check-in proves, without showing it to anyone, that you still hold your share and the key it is sealed to; a
        custodian who has not checked in within the credential’s window no longer counts towards its quorum.
      </p>
      {!keysReady && keyState !== 'checking' && <Notice tone="warning">This browser holds no keys for you: restore them on “My keys” before checking in.</Notice>}
      {result !== null && (
        <Notice tone={result.tone} role={result.tone === 'error' ? 'alert' : 'status'}>
          <span data-testid="check-in-result">{result.text}</span>
        </Notice>
      )}
      <LoadedTable
        load={held}
        errorTitle="Your credentials could not be loaded"
        what="your credentials"
        empty="You hold no share of any credential."
        columns={['Name', 'Kind', 'Share', 'Last check-in', 'Due', 'Status', '']}
        testId="my-credentials-table"
        row={({ credential, index, health }) => {
          const mine = health?.groups.flatMap((g) => g.custodians).find((c) => c.userId === me.id);
          return (
            <tr key={credential.id} data-testid="my-credential" data-credential={credential.name}>
              <td>
                <code>{credential.name}</code>
              </td>
              <td>{credential.kind}</td>
              <td>
                #{index} of {credential.custodians.length} (version {credential.version})
              </td>
              <td data-testid="last-check-in">{mine?.lastCheckInAt != null ? formatTime(mine.lastCheckInAt) : 'never'}</td>
              <td>{mine !== undefined ? formatTime(mine.checkInDueAt) : '—'}</td>
              <td>
                {mine === undefined ? (
                  <span className="muted">unknown</span>
                ) : mine.live ? (
                  <span className="tag tag-ok">counts</span>
                ) : (
                  <span className="tag tag-warn">does not count: {mine.reasons.map((r) => REASONS[r] ?? r).join(', ')}</span>
                )}
              </td>
              <td>
                <button type="button" className="small" disabled={!keysReady || busy !== null} onClick={() => void checkIn(credential)}>
                  {busy === credential.id ? 'Checking in…' : 'Check in'}
                </button>
              </td>
            </tr>
          );
        }}
      />
    </section>
  );
}
