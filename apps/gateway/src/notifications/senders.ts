import { IncomingWebhook, IncomingWebhookHTTPError } from '@slack/webhook';
import type { KnownBlock } from '@slack/types';
import nodemailer, { type Transporter } from 'nodemailer';
import { Webhook } from 'standardwebhooks';
import type { NotificationEvent } from '#libs/contracts';
import { describeEvent } from './notification-content.js';

/** How long a receiver may take to answer: a dead one costs a worker this long, never an approval. */
export const SEND_TIMEOUT_MS = 10_000;

/** A delivery that did not happen; `retry` false when trying again cannot help (a 4xx other than 408/429). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

function networkError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return new DeliveryError(`no answer within ${SEND_TIMEOUT_MS / 1000} s`, true);
  return new DeliveryError(`could not reach the receiver: ${e.cause?.code ?? e.cause?.message ?? e.message ?? 'unknown error'}`, true);
}

/**
 * A Standard Webhooks delivery: the body is the event as JSON, signed with the
 * channel's secret over `id.timestamp.body` (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`). The `webhook-id` is the event's id, the same on every retry,
 * so a receiver can drop a repeat.
 */
export async function sendWebhook(url: string, signingSecret: string, event: NotificationEvent, now: Date): Promise<void> {
  const body = JSON.stringify(event);
  const signature = new Webhook(signingSecret).sign(event.id, now, body);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'quorumgate-webhooks',
        'webhook-id': event.id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    await res.body?.cancel();
  } catch (error) {
    throw networkError(error);
  }
  if (res.status < 200 || res.status >= 300) throw new DeliveryError(`the receiver answered ${res.status}`, retryableStatus(res.status));
}

/**
 * A Slack message (Block Kit) through an incoming webhook: the summary and an "Open
 * in quorumgate" button. Nothing in it approves anything: a custodian decides in
 * quorumgate, with their own key (chat is a transport, never an approval).
 */
export async function sendSlack(webhookUrl: string, event: NotificationEvent): Promise<void> {
  const { subject, lines, link, loud } = describeEvent(event);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: (loud ? '🚨 ' : '') + subject.slice(0, 140) } },
    { type: 'section', text: { type: 'mrkdwn', text: lines.map(escapeMrkdwn).join('\n') } },
  ];
  if (link !== undefined) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in quorumgate' }, url: link, action_id: 'open_in_quorumgate', ...(loud ? { style: 'danger' as const } : {}) }] });
  }
  try {
    await new IncomingWebhook(webhookUrl, { timeout: SEND_TIMEOUT_MS }).send({ text: subject, blocks, unfurl_links: false });
  } catch (error) {
    if (error instanceof IncomingWebhookHTTPError) throw new DeliveryError(`Slack answered ${error.statusCode}`, retryableStatus(error.statusCode));
    const e = error as { original?: unknown };
    throw networkError(e.original ?? error);
  }
}

function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export type Mailer = Transporter;

export function createMailer(smtpUrl: string): Mailer {
  const url = new URL(smtpUrl);
  return nodemailer.createTransport({
    host: url.hostname,
    port: url.port === '' ? (url.protocol === 'smtps:' ? 465 : 587) : Number(url.port),
    secure: url.protocol === 'smtps:',
    ...(url.username !== '' ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    connectionTimeout: SEND_TIMEOUT_MS,
    greetingTimeout: SEND_TIMEOUT_MS,
    socketTimeout: SEND_TIMEOUT_MS,
  });
}

/** An email in plain text and HTML, with the link to the request. */
export async function sendEmail(mailer: Mailer, from: string, to: string, event: NotificationEvent): Promise<void> {
  const { subject, lines, link, loud } = describeEvent(event);
  const text = [...lines, ...(link !== undefined ? ['', `Open in quorumgate: ${link}`] : [])].join('\n');
  const html = [
    `<h2${loud ? ' style="color:#b00020"' : ''}>${escapeHtml(subject)}</h2>`,
    ...lines.map((l) => `<p>${escapeHtml(l)}</p>`),
    ...(link !== undefined ? [`<p><a href="${escapeHtml(link)}">Open in quorumgate</a></p>`] : []),
  ].join('\n');
  try {
    await mailer.sendMail({ from, to, subject: (loud ? '[BREAK-GLASS] ' : '') + subject, text, html, headers: { 'X-Quorumgate-Event': event.type, 'X-Quorumgate-Event-Id': event.id } });
  } catch (error) {
    const e = error as { responseCode?: number; code?: string };
    // A 5xx SMTP answer is permanent (bad address), a 4xx temporary; a connection error may pass.
    if (e.responseCode !== undefined && e.responseCode >= 500) throw new DeliveryError(`the mail server refused: ${e.responseCode}`, false);
    throw new DeliveryError(`email not sent: ${e.responseCode ?? e.code ?? 'unknown error'}`, true);
  }
}
