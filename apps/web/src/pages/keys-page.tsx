import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { api, describeError } from '../api.ts';
import { Notice } from '../components/feedback.tsx';
import { Field, FormFooter } from '../components/form-parts.tsx';
import { groupedFingerprint } from '../format.ts';
import { BackupMismatchError, createKeys, discardLaterBackup, makeLaterBackup, restoreFromBackup, type StoredKeys } from '../key-store.ts';
import { useSession, type KeyState } from '../session.tsx';
import { useNeedsKeys } from '../use-needs-keys.ts';
import { useSubmit } from '../use-submit.ts';

const MIN_PASSPHRASE = 12;

function Fingerprints({ title, encryption, signing, testId }: { title: string; encryption: string; signing: string; testId: string }) {
  return (
    <div className="card" data-testid={testId}>
      <h3>{title}</h3>
      <dl className="fields">
        <dt>Encryption key</dt>
        <dd>
          <code className="fingerprint">{groupedFingerprint(encryption)}</code>
        </dd>
        <dt>Signing key</dt>
        <dd>
          <code className="fingerprint">{groupedFingerprint(signing)}</code>
        </dd>
      </dl>
    </div>
  );
}

const STATE_TEXT: Record<KeyState, { tone: 'info' | 'warning' | 'success' | 'error'; text: string }> = {
  checking: { tone: 'info', text: 'Checking this browser’s key storage…' },
  'none-anywhere': { tone: 'warning', text: 'You have no custodian keys yet. Create them here: they never leave this browser.' },
  'unenrolled-local': { tone: 'warning', text: 'This browser holds keys that the gateway does not know. Create new keys to enrol.' },
  'missing-here': { tone: 'warning', text: 'Your keys are enrolled, but this browser does not hold them. Restore your backup to approve from here.' },
  mismatch: { tone: 'error', text: 'This browser holds other keys than the ones enrolled for you. Restore the backup of your enrolled keys.' },
  ok: { tone: 'success', text: 'This browser holds your enrolled keys: you can approve requests here.' },
};

function BackupDownload({ backup, username }: { backup: string; username: string }) {
  const url = useMemo(() => URL.createObjectURL(new Blob([backup], { type: 'application/json' })), [backup]);
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  return (
    <Notice tone="warning" role="status">
      <p>
        <strong>Save your key backup now.</strong> This page shows it once: the keys in this browser cannot be exported, so the file cannot be
        made again. Keep the file and its passphrase apart, somewhere you can reach if this laptop is lost.
      </p>
      <p>
        <a className="button" href={url} download={`quorumgate-keys-${username}.json`} data-testid="backup-download">
          Download the encrypted backup
        </a>
      </p>
      <details>
        <summary>Show the backup as text</summary>
        <textarea readOnly rows={5} value={backup} aria-label="Encrypted key backup" data-testid="backup-text" />
      </details>
    </Notice>
  );
}

function CreateKeys({ replacing, onCreated }: { replacing: boolean; onCreated: (backup: string | null) => void }) {
  const { me, refresh } = useSession();
  const [withBackup, setWithBackup] = useState(true);
  const [later, setLater] = useState(true);
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, setError, run } = useSubmit();
  const sso = me.signIn === 'sso';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!sso && password === '') return setError('Enter your current password: enrolling keys needs it.');
    if (withBackup && passphrase.length < MIN_PASSPHRASE) return setError(`The backup passphrase needs at least ${MIN_PASSPHRASE} characters.`);
    if (withBackup && passphrase !== confirm) return setError('The two passphrases differ.');
    await run(async () => {
      try {
        const made = await createKeys(
          me.id,
          me.username,
          withBackup ? passphrase : null,
          async (jwks) => {
            await api.enrolKeys({ encryptionKey: jwks.encryptionKey, signingKey: jwks.signingKey }, sso ? undefined : password);
          },
          { later: !withBackup && later },
        );
        setPassphrase('');
        setConfirm('');
        onCreated(made.backup);
        await refresh();
      } finally {
        setPassword('');
      }
    });
  };

  return (
    <form className="card stack" onSubmit={(e) => void submit(e)} aria-labelledby="create-keys-title">
      <h2 id="create-keys-title">{replacing ? 'Replace my keys' : 'Create my keys'}</h2>
      <p className="muted">
        Two P-256 key pairs are generated in this browser: one to open your credential shares, one to sign your decisions. Only the public halves
        are sent to the gateway.
      </p>
      {replacing && (
        <Notice tone="warning">
          Any credential shares you hold stay sealed to your current key: after replacing it you can no longer open them, and each such
          credential counts you as lost (its margin drops at once) until a security lead re-shares it to your new key. Do this only if
          your current keys are lost or compromised; otherwise restore your backup.
        </Notice>
      )}
      <label className="checkbox">
        <input type="checkbox" checked={withBackup} onChange={(e) => setWithBackup(e.target.checked)} />
        <span>Make an encrypted backup (recommended: a lost laptop is then not a lost share)</span>
      </label>
      {!withBackup && (
        <label className="checkbox">
          <input type="checkbox" checked={later} onChange={(e) => setLater(e.target.checked)} />
          <span>
            Let me make the backup later <span className="hint">(until then this browser keeps a sealed copy of the keys, readable by a script running on this page: make the backup soon)</span>
          </span>
        </label>
      )}
      {withBackup && (
        <div className="grid-2">
          <Field label="Backup passphrase" hint={<>At least {MIN_PASSPHRASE} characters. It is never sent anywhere.</>}>
            <input type="password" autoComplete="new-password" minLength={MIN_PASSPHRASE} value={passphrase} onChange={(e) => setPassphrase(e.target.value)} />
          </Field>
          <Field label="Passphrase again">
            <input type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
          </Field>
        </div>
      )}
      {sso ? (
        <p className="muted" data-testid="enrol-fresh-sign-in">
          Enrolling keys decides where your shares are sealed and whose signatures count as yours: the gateway accepts it within 5 minutes of
          signing in. If it says your sign-in is too old, <a href="/api/v1/auth/oidc/login">sign in again</a> and come back here.
        </p>
      ) : (
        <Field label="Your current password" hint="Enrolling keys decides where your shares are sealed and whose signatures count as yours: the gateway asks for your password again.">
          <input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} data-testid="enrol-current-password" />
        </Field>
      )}
      <FormFooter
        error={error}
        busy={busy}
        busyLabel={withBackup ? 'Generating keys and encrypting the backup…' : 'Generating keys…'}
        label={replacing ? 'Replace and enrol keys' : 'Create and enrol keys'}
      />
    </form>
  );
}

/** What this browser knows about a backup of the keys it holds, and the backup chosen for later. */
function BackupStatus({ stored, onMade }: { stored: StoredKeys; onMade: (backup: string) => void }) {
  const { me, refresh } = useSession();
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const { busy, error, setError, run } = useSubmit();
  const info = stored.backup;
  const state = info?.state ?? 'unknown';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (passphrase.length < MIN_PASSPHRASE) return setError(`The backup passphrase needs at least ${MIN_PASSPHRASE} characters.`);
    if (passphrase !== confirm) return setError('The two passphrases differ.');
    await run(async () => {
      const backup = await makeLaterBackup(me.id, passphrase);
      setPassphrase('');
      setConfirm('');
      onMade(backup);
      await refresh();
    }, (err) => (err instanceof BackupMismatchError ? err.message : describeError(err)));
  };

  const decline = async () => {
    await run(async () => {
      await discardLaterBackup(me.id);
      await refresh();
    });
  };

  let text: string;
  switch (state) {
    case 'made':
      text = `A backup of these keys was made in this browser on ${new Date((info as { at: string }).at).toLocaleString()}.`;
      break;
    case 'restored':
      text = `These keys were restored from a backup on ${new Date((info as { at: string }).at).toLocaleString()}: keep that file.`;
      break;
    case 'pending':
      text = 'These keys have no backup yet. Make it now: until then, losing this browser loses your shares.';
      break;
    case 'none':
      text = 'These keys were made without a backup, and no backup of them can be made any more. If this browser is lost, you need new keys and a re-share.';
      break;
    case 'unknown':
      text = 'This browser does not know whether a backup of these keys exists (they were stored before it kept track).';
  }
  return (
    <section className="card stack" aria-labelledby="backup-title">
      <h2 id="backup-title">Backup</h2>
      <p data-testid="backup-state" data-state={state}>
        {text}
      </p>
      {state === 'pending' && (
        <form className="stack" onSubmit={(e) => void submit(e)} aria-label="Make the backup">
          <div className="grid-2">
            <Field label="Backup passphrase" hint={<>At least {MIN_PASSPHRASE} characters. It is never sent anywhere.</>}>
              <input type="password" autoComplete="new-password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} data-testid="later-passphrase" />
            </Field>
            <Field label="Passphrase again">
              <input type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} data-testid="later-confirm" />
            </Field>
          </div>
          <FormFooter error={error} busy={busy} busyLabel="Encrypting the backup…" label="Make the backup now" />
          <p>
            <button type="button" className="link-button" disabled={busy} onClick={() => void decline()}>
              I do not want a backup: forget the copy
            </button>
          </p>
        </form>
      )}
    </section>
  );
}

function RestoreBackup() {
  const { me, refresh } = useSession();
  const [text, setText] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const { busy, error, setError, run } = useSubmit();
  const [done, setDone] = useState(false);

  const readFile = (file: File | undefined) => {
    if (file === undefined) return;
    file.text().then(setText, () => setError('That file could not be read.'));
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (text.trim() === '') return setError('Choose the backup file or paste its text.');
    if (passphrase === '') return setError('Enter the backup passphrase.');
    await run(async () => {
      const expected = me.keys === null ? null : { encryptionThumbprint: me.keys.encryptionThumbprint, signingThumbprint: me.keys.signingThumbprint };
      await restoreFromBackup(me.id, me.username, text, passphrase, expected);
      setPassphrase('');
      setDone(true);
      await refresh();
    }, (err) => err instanceof BackupMismatchError ? err.message : describeError(err));
  };

  if (done) return <Notice tone="success" role="status">Your keys are restored in this browser.</Notice>;
  return (
    <form className="card stack" onSubmit={(e) => void submit(e)} aria-labelledby="restore-title">
      <h2 id="restore-title">Restore from a backup</h2>
      <Field label="Backup file">
        <input type="file" accept="application/json,.json,.txt" onChange={(e) => readFile(e.target.files?.[0])} />
      </Field>
      <Field label="…or paste the backup text">
        <textarea rows={4} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      </Field>
      <Field label="Backup passphrase">
        <input type="password" autoComplete="current-password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} />
      </Field>
      <FormFooter error={error} busy={busy} busyLabel="Decrypting the backup…" label="Restore keys" />
    </form>
  );
}

export function KeysPage() {
  const { me, localKeys, keyState } = useSession();
  const needsKeys = useNeedsKeys();
  const [backup, setBackup] = useState<string | null>(null);
  if (me.kind !== 'user') return <Notice>Service accounts hold no custodian keys.</Notice>;
  const status =
    keyState === 'none-anywhere' && needsKeys === false
      ? ({ tone: 'info', text: 'You need no keys: they are for custodians (the operator role) and for people a policy lets use reveal. You can still create them here.' } as const)
      : STATE_TEXT[keyState];
  return (
    <section className="stack">
      <h1>My keys</h1>
      <Notice tone={status.tone} role="status">
        <span data-testid="key-state" data-state={keyState}>
          {status.text}
        </span>
      </Notice>
      {backup !== null && <BackupDownload backup={backup} username={me.username} />}
      <div className="grid-2">
        {me.keys !== null && (
          <Fingerprints title="Enrolled at the gateway" encryption={me.keys.encryptionThumbprint} signing={me.keys.signingThumbprint} testId="enrolled-fingerprints" />
        )}
        {localKeys != null && (
          <Fingerprints title="Held by this browser" encryption={localKeys.encryptionThumbprint} signing={localKeys.signingThumbprint} testId="local-fingerprints" />
        )}
      </div>
      {(keyState === 'none-anywhere' || keyState === 'unenrolled-local') && <CreateKeys replacing={false} onCreated={setBackup} />}
      {(keyState === 'missing-here' || keyState === 'mismatch') && (
        <>
          <RestoreBackup />
          <details className="card">
            <summary>No backup? Replace my keys</summary>
            <CreateKeys replacing onCreated={setBackup} />
          </details>
        </>
      )}
      {keyState === 'ok' && localKeys != null && <BackupStatus stored={localKeys} onMade={setBackup} />}
      {keyState === 'ok' && (
        <p className="muted">Fingerprints are RFC 7638 SHA-256 thumbprints: compare them with the ones the qg CLI or a security lead sees.</p>
      )}
    </section>
  );
}
