import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * A local HTTP receiver for webhooks and Slack messages. Every path answers 200, but
 * `/hang…` never answers, `/flaky…` answers 500 to its first two calls, `/gone…`
 * always 410 and `/down…` always 503.
 */
export class HttpReceiver {
  readonly received: Received[] = [];
  private readonly calls = new Map<string, number>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.received.push({ path, headers: req.headers, body, at: Date.now() });
        const n = (this.calls.get(path) ?? 0) + 1;
        this.calls.set(path, n);
        if (path.startsWith('/hang')) return;
        if (path.startsWith('/flaky') && n <= 2) return void res.writeHead(500).end('not yet');
        if (path.startsWith('/gone')) return void res.writeHead(410).end('gone');
        if (path.startsWith('/down')) return void res.writeHead(503).end('down');
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /** The bodies received on `path` whose signature verifies with `secret` (Standard Webhooks); throws on one that does not. */
  verified(path: string, secret: string): { id: string; type: string; timestamp: string; data: any }[] {
    const wh = new Webhook(secret);
    return this.on(path).map((r) => wh.verify(r.body, r.headers as Record<string, string>) as any);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export interface Mail {
  to: string[];
  raw: string;
}

/** A local SMTP server that keeps every message it is given. */
export class MailReceiver {
  readonly mails: Mail[] = [];
  private server: SMTPServer | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session, callback) => {
        let raw = '';
        stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
        stream.on('end', () => {
          // Quoted-printable soft line breaks undone, so that links and ids read whole.
          this.mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=') });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    const address = this.server.server.address() as AddressInfo;
    this.url = `smtp://127.0.0.1:${address.port}`;
    return this;
  }

  to(address: string): Mail[] {
    return this.mails.filter((m) => m.to.includes(address));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
