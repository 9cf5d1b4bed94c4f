import { assertUnreachable, type MarginLowEventData, type NotificationEvent, type Operation, type RequestEventData, type RequestEventType, type RequestStatus } from '#libs/contracts';

/** Every event type a change to `status` may lead to, whatever the operation; `pending` also schedules reminders. */
export function eventTypesPossibleFor(status: RequestStatus): RequestEventType[] {
  const types = eventTypesFor(status, 'reveal');
  return status === 'pending' ? [...types, 'request.reminder'] : types;
}

/**
 * What each request change announces. `executing` announces nothing (the requester
 * hears the outcome); a succeeded `reveal` is also `request.revealed`, loudly: a
 * break-glass read of the secret itself.
 */
export function eventTypesFor(status: RequestStatus, operationKind: Operation['kind']): RequestEventType[] {
  switch (status) {
    case 'pending':
      return ['request.pending'];
    case 'approved':
      return ['request.approved'];
    case 'executing':
      return [];
    case 'succeeded':
      return operationKind === 'reveal' ? ['request.succeeded', 'request.revealed'] : ['request.succeeded'];
    case 'failed':
      return ['request.failed'];
    case 'rejected':
      return ['request.rejected'];
    case 'expired':
      return ['request.expired'];
    case 'cancelled':
      return ['request.cancelled'];
    default:
      return assertUnreachable(status, 'request status');
  }
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? '');
}

/**
 * One line saying what the operation does, from the signed parameters a custodian
 * reviews anyway — never a header, a body or a payload (those may carry data the
 * chat or the inbox should not): enough to recognise the request, not to judge it.
 */
export function summarizeOperation(operation: Operation): string {
  const p = operation.params;
  switch (operation.kind) {
    case 'sign':
      return `sign a ${str(p['format'] ?? 'raw')} payload`;
    case 'http':
      return clip(`${str(p['method'])} ${str(p['path'])}`, 200);
    case 'kubernetes.exec': {
      const command = Array.isArray(p['command']) ? p['command'].map(str).join(' ') : '';
      return clip(`exec in ${str(p['namespace'])}/${str(p['pod'])}: ${command}`, 200);
    }
    case 'ssh.exec':
      return clip(`ssh: ${str(p['command'])}`, 200);
    case 'sql.exec':
      return clip(`${p['readOnly'] === false ? 'SQL (read-write)' : 'SQL (read-only)'}: ${str(p['sql']).replace(/\s+/g, ' ')}`, 200);
    case 'reveal':
      return 'reveal the secret to the requester (break-glass)';
    case 'credential.reshare':
      return 'custody: re-share the credential to new custodians or thresholds';
    case 'credential.rotate':
      return 'custody: rotate the credential (new secret and/or config)';
    default:
      return assertUnreachable(operation.kind, 'operation kind');
  }
}

const HEADLINES: { readonly [T in RequestEventType]: string } = {
  'request.pending': 'Approval needed',
  'request.reminder': 'Reminder: approval still needed',
  'request.approved': 'Request approved',
  'request.succeeded': 'Request succeeded',
  'request.failed': 'Request failed',
  'request.rejected': 'Request rejected',
  'request.expired': 'Request expired',
  'request.cancelled': 'Request cancelled',
  'request.revealed': 'BREAK-GLASS: a secret was revealed',
};

/** A rendering for people (Slack, email): a subject line and plain-text lines. */
export function describeEvent(event: NotificationEvent): { subject: string; lines: string[]; link: string | undefined; loud: boolean } {
  if (event.type === 'notification.test') return { subject: 'quorumgate test notification', lines: ['This channel works.'], link: undefined, loud: false };
  if (event.type === 'audit.entry') return { subject: 'quorumgate audit entry', lines: [JSON.stringify(event.data)], link: undefined, loud: false };
  if (event.type === 'credential.margin_low') {
    const data = event.data as MarginLowEventData;
    const who = data.notLive.map((c) => `${c.username} (${c.reasons.join(', ')})`).join('; ');
    return {
      subject: clip(`Credential ${data.credential.name}: one more departure loses it (margin ${data.margin})`, 250),
      lines: [`Credential: ${data.credential.name}, version ${data.credential.version}`, `Margin: ${data.margin}`, `No longer counting: ${who}`, 'Re-share it now from the credentials page.'],
      link: data.link,
      loud: true,
    };
  }
  const { request } = event.data as RequestEventData;
  const subject = `${HEADLINES[event.type]}: ${request.operation.summary} with ${request.credential.name}`;
  return {
    subject: clip(subject, 250),
    lines: [
      `Requested by ${request.requester.name}: ${request.reason}`,
      `Credential: ${request.credential.name}`,
      `Operation: ${request.operation.summary}`,
      `Approvals: ${request.approvals.received} of ${request.approvals.required}`,
      `Status: ${request.status}; expires ${request.expiresAt}`,
      ...(event.type === 'request.revealed' ? ['The requester now holds the secret itself: rotate the credential once the emergency is over.'] : []),
      ...(event.type === 'request.pending' || event.type === 'request.reminder' ? ['Review and decide in quorumgate, with your own key. Nothing is approved from this message.'] : []),
    ],
    link: request.link,
    loud: event.type === 'request.revealed',
  };
}
