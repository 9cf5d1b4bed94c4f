import { useState, type FormEvent } from 'react';
import { api, assertUnreachable, NOTIFICATION_CHANNEL_KINDS, NOTIFICATION_EVENT_TYPES, REQUEST_EVENT_TYPES, type NotificationChannel, type NotificationChannelKind, type NotificationEventType } from '../api.ts';
import { ConfirmRow } from '../components/confirm-row.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { ErrorMessage, Loading, Notice } from '../components/feedback.tsx';
import { Field, FormFooter } from '../components/form-parts.tsx';
import { LoadedTable } from '../components/loaded-table.tsx';
import { ScrollTable } from '../components/scroll-table.tsx';
import { formatTime } from '../format.ts';
import { useLoad } from '../use-load.ts';
import { useSubmit } from '../use-submit.ts';

function target(channel: NotificationChannel): string {
  switch (channel.kind) {
    case 'webhook':
      return channel.config.url ?? '';
    case 'slack':
      return 'incoming webhook (sealed)';
    case 'email':
      return channel.config.to ?? 'each user\u2019s own address';
    default:
      return assertUnreachable(channel.kind, 'notification channel kind');
  }
}

function SecretOnce({ name, secret, onDone }: { name: string; secret: string; onDone: () => void }) {
  return (
    <div className="notice notice-warning stack" role="status" data-testid="signing-secret-once">
      <p>
        <strong>Copy the signing secret of {name} now: it is shown only once.</strong> The receiver verifies each webhook with it (Standard Webhooks).
      </p>
      <pre className="code wrap" data-testid="signing-secret">
        {secret}
      </pre>
      <div className="actions">
        <CopyButton text={secret} label="Copy secret" />
        <button type="button" className="secondary small" onClick={onDone}>
          I have stored it
        </button>
      </div>
    </div>
  );
}

function Deliveries({ channelId }: { channelId: string }) {
  const deliveries = useLoad(() => api.listDeliveries(channelId), [channelId]);
  if (deliveries.error !== undefined) return <ErrorMessage title="The deliveries could not be loaded" error={deliveries.error} onRetry={deliveries.reload} />;
  if (deliveries.data === undefined) return <Loading what="deliveries" />;
  if (deliveries.data.length === 0) return <p className="muted">No deliveries yet.</p>;
  return (
    <ScrollTable columns={['Event', 'Status', 'Attempts', 'Last error', 'Created', 'Delivered']} testId="deliveries-table">
      {deliveries.data.map((d) => (
        <tr key={d.id} data-testid="delivery-row" data-status={d.status}>
          <td>
            <code>{d.type}</code>
          </td>
          <td>
            <span className={d.status === 'delivered' ? 'tag tag-ok' : d.status === 'failed' ? 'tag tag-warn' : 'tag'}>{d.status}</span>
          </td>
          <td>{d.attempts}</td>
          <td>{d.lastError ?? '—'}</td>
          <td>{formatTime(d.createdAt)}</td>
          <td>{d.deliveredAt !== null ? formatTime(d.deliveredAt) : '—'}</td>
        </tr>
      ))}
    </ScrollTable>
  );
}

function ChannelRow({ channel, columns, onChanged }: { channel: NotificationChannel; columns: number; onChanged: (message: string) => void }) {
  const [open, setOpen] = useState<'none' | 'deliveries' | 'delete'>('none');
  const { busy, error, setError, run } = useSubmit();
  const toggle = (what: 'deliveries' | 'delete') => {
    setError(null);
    setOpen(open === what ? 'none' : what);
  };
  return (
    <>
      <tr data-testid="channel-row" data-name={channel.name}>
        <td>
          <code>{channel.name}</code>
        </td>
        <td>{channel.kind}</td>
        <td className="wrap">{target(channel)}</td>
        <td className="small">{channel.events.join(', ')}</td>
        <td>{channel.lastError ?? '—'}</td>
        <td>
          <div className="actions">
            <button
              type="button"
              className="secondary small"
              disabled={busy}
              onClick={() =>
                void run(async () => {
                  await api.testChannel(channel.id);
                  onChanged(`Test event queued for ${channel.name}: see its deliveries.`);
                })
              }
            >
              Test
            </button>
            <button type="button" className="secondary small" aria-expanded={open === 'deliveries'} onClick={() => toggle('deliveries')}>
              Deliveries
            </button>
            <button type="button" className="danger small" aria-expanded={open === 'delete'} onClick={() => toggle('delete')}>
              Delete
            </button>
          </div>
          {error !== null && open !== 'delete' && (
            <Notice tone="error" role="alert">
              {error}
            </Notice>
          )}
        </td>
      </tr>
      {open === 'deliveries' && (
        <tr>
          <td colSpan={columns}>
            <Deliveries channelId={channel.id} />
          </td>
        </tr>
      )}
      {open === 'delete' && (
        <ConfirmRow
          colSpan={columns}
          testId="channel-confirm"
          question={`Delete ${channel.name}?`}
          confirmLabel={`Delete ${channel.name}`}
          busyLabel="Deleting…"
          danger
          busy={busy}
          error={error}
          onConfirm={() =>
            void run(async () => {
              await api.deleteChannel(channel.id);
              setOpen('none');
              onChanged(`Channel ${channel.name} deleted.`);
            })
          }
          onCancel={() => toggle('delete')}
        >
          <p>Nothing more is sent through it, and its delivery history goes with it.</p>
        </ConfirmRow>
      )}
    </>
  );
}

export function NotificationsPage() {
  const channels = useLoad(() => api.listChannels(), []);
  const [name, setName] = useState('');
  const [kind, setKind] = useState<NotificationChannelKind>('webhook');
  const [address, setAddress] = useState('');
  const [events, setEvents] = useState<NotificationEventType[]>([...REQUEST_EVENT_TYPES]);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const { busy, error, run } = useSubmit();
  const columns = ['Name', 'Kind', 'Sends to', 'Events', 'Last error', 'Actions'];
  const offered = NOTIFICATION_EVENT_TYPES.filter((t) => kind === 'webhook' || t !== 'audit.entry');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await run(async () => {
      const value = address.trim();
      const config: Record<string, string> = kind === 'webhook' ? { url: value } : kind === 'slack' ? { webhookUrl: value } : value === '' ? {} : { to: value };
      const created = await api.createChannel({ name: name.trim(), kind, config, events: events.filter((t) => offered.includes(t)) });
      setSecret(created.signingSecret !== undefined ? { name: created.name, secret: created.signingSecret } : null);
      setMessage(`Channel ${created.name} created.`);
      setName('');
      setAddress('');
      channels.reload();
    });
  };

  return (
    <section className="stack">
      <h1>Notifications</h1>
      <p className="muted">
        Channels tell approvers that a request waits for them and requesters how it ended. A notification links to the request; approving always happens here, with
        the custodian&apos;s own key.
      </p>
      {secret !== null && <SecretOnce name={secret.name} secret={secret.secret} onDone={() => setSecret(null)} />}
      {message !== null && (
        <Notice tone="success" role="status">
          <span data-testid="notifications-notice">{message}</span>
        </Notice>
      )}
      <LoadedTable
        load={channels}
        errorTitle="The notification channels could not be loaded"
        what="notification channels"
        empty="No channels yet: nobody is told when a request waits."
        columns={columns}
        testId="channels-table"
        row={(c) => (
          <ChannelRow
            key={c.id}
            channel={c}
            columns={columns.length}
            onChanged={(m) => {
              setMessage(m);
              channels.reload();
            }}
          />
        )}
      />
      <form className="card stack" onSubmit={(e) => void submit(e)} aria-labelledby="new-channel-title" data-testid="channel-form">
        <h2 id="new-channel-title">New channel</h2>
        <Field label="Name">
          <input name="name" required value={name} onChange={(e) => setName(e.target.value)} placeholder="sre-slack" />
        </Field>
        <Field label="Kind">
          <select name="kind" value={kind} onChange={(e) => setKind(e.target.value as NotificationChannelKind)}>
            {NOTIFICATION_CHANNEL_KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </Field>
        <Field
          label={kind === 'webhook' ? 'Webhook URL' : kind === 'slack' ? 'Slack incoming-webhook URL' : 'Send to (optional)'}
          hint={kind === 'slack' ? 'Sealed under the master key and never shown again.' : kind === 'email' ? 'Empty: each concerned user at their own address, as they chose.' : 'A signing secret is shown once after creation.'}
        >
          <input name="address" required={kind !== 'email'} value={address} onChange={(e) => setAddress(e.target.value)} type={kind === 'email' ? 'email' : 'url'} />
        </Field>
        <fieldset>
          <legend>Events</legend>
          <div className="checks">
            {offered.map((type) => (
              <label key={type} className="checkbox">
                <input type="checkbox" name={type} checked={events.includes(type)} onChange={(e) => setEvents(e.target.checked ? [...events, type] : events.filter((t) => t !== type))} />{' '}
                <code>{type}</code>
              </label>
            ))}
          </div>
        </fieldset>
        <FormFooter error={error} busy={busy} busyLabel="Creating the channel…" label="Create channel" />
      </form>
    </section>
  );
}
