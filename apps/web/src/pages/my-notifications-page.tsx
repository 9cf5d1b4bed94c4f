import { useEffect, useState, type FormEvent } from 'react';
import { api, REQUEST_EVENT_TYPES, type NotificationPreferences } from '../api.ts';
import { ErrorMessage, Loading, Notice } from '../components/feedback.tsx';
import { Field, FormFooter } from '../components/form-parts.tsx';
import { useLoad } from '../use-load.ts';
import { useSubmit } from '../use-submit.ts';

/** What each event means to the person choosing whether to get it by email. */
export const EVENT_LABELS: Record<(typeof REQUEST_EVENT_TYPES)[number], string> = {
  'request.pending': 'A request waits for my decision',
  'request.reminder': 'Reminders, at half and 90 % of a request\u2019s time, while I have not decided',
  'request.approved': 'My request was approved',
  'request.succeeded': 'My request ran and succeeded',
  'request.failed': 'My request failed',
  'request.rejected': 'My request was rejected',
  'request.expired': 'My request expired',
  'request.cancelled': 'My request was cancelled',
  'request.revealed': 'Break-glass: a secret I guard (or, as a security lead, any secret) was revealed',
};

export function MyNotificationsPage() {
  const loaded = useLoad(() => api.getMyNotifications(), []);
  const [prefs, setPrefs] = useState<NotificationPreferences | undefined>(undefined);
  const [email, setEmail] = useState('');
  const [saved, setSaved] = useState(false);
  const { busy, error, run } = useSubmit();

  useEffect(() => {
    if (loaded.data === undefined) return;
    setPrefs(loaded.data);
    setEmail(loaded.data.email ?? '');
  }, [loaded.data]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (prefs === undefined) return;
    setSaved(false);
    await run(async () => {
      setPrefs(await api.putMyNotifications({ email: email.trim() === '' ? null : email.trim(), events: prefs.events }));
      setSaved(true);
    });
  };

  return (
    <section className="stack">
      <h1>My notifications</h1>
      <p className="muted">
        Which events reach you by email, when an admin has set up an email channel. Approving always happens here, with your own key: an email only links to the
        request.
      </p>
      {loaded.error !== undefined && <ErrorMessage title="Your notification settings could not be loaded" error={loaded.error} onRetry={loaded.reload} />}
      {prefs === undefined ? (
        loaded.error === undefined && <Loading what="your notification settings" />
      ) : (
        <form className="card stack" onSubmit={(e) => void submit(e)} data-testid="my-notifications-form">
          <Field label="Email address" hint="Leave empty to receive no email.">
            <input type="email" name="email" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="you@example.com" autoComplete="email" />
          </Field>
          <fieldset>
            <legend>Email me when</legend>
            <div className="checks">
              {REQUEST_EVENT_TYPES.map((type) => (
                <label key={type} className="checkbox">
                  <input
                    type="checkbox"
                    name={type}
                    checked={prefs.events[type]}
                    onChange={(e) => setPrefs({ ...prefs, events: { ...prefs.events, [type]: e.target.checked } })}
                  />{' '}
                  {EVENT_LABELS[type]}
                </label>
              ))}
            </div>
          </fieldset>
          {saved && (
            <Notice tone="success" role="status">
              Saved.
            </Notice>
          )}
          <FormFooter error={error} busy={busy} busyLabel="Saving…" label="Save" />
        </form>
      )}
    </section>
  );
}
