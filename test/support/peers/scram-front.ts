import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

// Why this exists: the test PostgreSQL server trusts every loopback connection
// (pg_hba `trust`), so it never asks for a password and could not tell a right
// one from a wrong one. This front sits between the executor and that server
// and does what a `scram-sha-256` pg_hba line makes the server do: it runs the
// SCRAM-SHA-256 exchange (RFC 5802/7677) for one role and password, refuses
// any other proof with SQLSTATE 28P01, and only then connects to the real
// server with the client's own startup message and relays bytes both ways.
// Statements run on the real server, as the role.

const PROTOCOL_3 = 196608;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const ITERATIONS = 4096;

export interface ScramAttempt {
  user: string;
  database: string;
  ok: boolean;
}

export interface ScramFront {
  port: number;
  attempts: ScramAttempt[];
  /** Cancel requests forwarded to the real server. */
  cancels: number;
  close(): Promise<void>;
}

/** Reads whole protocol messages from a socket until `detach()`. */
class Reader {
  private buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private ended = false;
  private readonly onData = (chunk: Buffer) => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.wake?.();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.wake?.();
  };

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
  }

  private async take(n: number): Promise<Buffer> {
    while (this.buffer.byteLength < n) {
      if (this.ended) throw new Error('client went away');
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  /** An untyped startup-phase message: length, code, body. */
  async startup(): Promise<{ code: number; body: Buffer; raw: Buffer }> {
    const head = await this.take(8);
    const length = head.readInt32BE(0);
    if (length < 8 || length > 10_000) throw new Error('bad startup length');
    const body = await this.take(length - 8);
    return { code: head.readInt32BE(4), body, raw: Buffer.concat([head, body]) };
  }

  async typed(): Promise<{ type: string; body: Buffer }> {
    const head = await this.take(5);
    const length = head.readInt32BE(1);
    if (length < 4 || length > 100_000) throw new Error('bad message length');
    return { type: String.fromCharCode(head[0] as number), body: await this.take(length - 4) };
  }

  detach(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    return this.buffer;
  }
}

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.byteLength + 4, 1);
  return Buffer.concat([head, body]);
}

function auth(code: number, data = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(code, 0);
  return message('R', Buffer.concat([head, data]));
}

function fatal(sqlstate: string, text: string): Buffer {
  const field = (tag: string, value: string) => Buffer.concat([Buffer.from(tag, 'latin1'), Buffer.from(value, 'utf8'), Buffer.from([0])]);
  return message('E', Buffer.concat([field('S', 'FATAL'), field('V', 'FATAL'), field('C', sqlstate), field('M', text), Buffer.from([0])]));
}

function startupParams(body: Buffer): Record<string, string> {
  const parts = body.toString('utf8').split('\u0000');
  const params: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i] !== '') params[parts[i] as string] = parts[i + 1] as string;
  return params;
}

function attributes(text: string): Map<string, string> {
  return new Map(text.split(',').map((part) => [part.slice(0, 1), part.slice(2)] as [string, string]));
}

const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

/** Starts the front on 127.0.0.1; it admits `user` with `password` only. */
export async function startScramFront(upstream: { host: string; port: number }, expected: { user: string; password: string }): Promise<ScramFront> {
  const attempts: ScramAttempt[] = [];
  const sockets = new Set<Socket>();
  const front: ScramFront = { port: 0, attempts, cancels: 0, close: async () => undefined };

  async function handle(client: Socket): Promise<void> {
    const reader = new Reader(client);
    let startup = await reader.startup();
    while (startup.code === SSL_REQUEST || startup.code === GSSENC_REQUEST) {
      client.write('N');
      startup = await reader.startup();
    }
    if (startup.code === CANCEL_REQUEST) {
      front.cancels += 1;
      const forward = connect(upstream, () => forward.end(startup.raw));
      forward.on('error', () => forward.destroy());
      client.end();
      return;
    }
    if (startup.code !== PROTOCOL_3) throw new Error('unsupported protocol');
    const params = startupParams(startup.body);
    const user = params['user'] ?? '';
    const database = params['database'] ?? user;

    client.write(auth(10, Buffer.from('SCRAM-SHA-256\u0000\u0000', 'utf8')));
    const initial = await reader.typed();
    const mechanismEnd = initial.body.indexOf(0);
    const mechanism = initial.body.subarray(0, mechanismEnd).toString('utf8');
    const clientFirst = initial.body.subarray(mechanismEnd + 5).toString('utf8');
    if (initial.type !== 'p' || mechanism !== 'SCRAM-SHA-256' || !clientFirst.startsWith('n,,')) {
      client.end(fatal('28000', 'SCRAM-SHA-256 without channel binding is required'));
      return;
    }
    const clientFirstBare = clientFirst.slice(3);
    const clientNonce = attributes(clientFirstBare).get('r') ?? '';
    const nonce = clientNonce + randomBytes(18).toString('base64');
    const salt = randomBytes(16);
    const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${ITERATIONS}`;
    client.write(auth(11, Buffer.from(serverFirst)));

    const response = await reader.typed();
    const clientFinal = response.body.toString('utf8');
    const proofAt = clientFinal.lastIndexOf(',p=');
    const final = attributes(clientFinal);
    const salted = pbkdf2Sync(expected.password, salt, ITERATIONS, 32, 'sha256');
    const storedKey = sha256(hmac(salted, 'Client Key'));
    const authMessage = `${clientFirstBare},${serverFirst},${clientFinal.slice(0, proofAt)}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.from(final.get('p') ?? '', 'base64');
    const recovered = proof.byteLength === 32 ? Buffer.from(proof.map((b, i) => b ^ (signature[i] as number))) : Buffer.alloc(32);
    const ok = response.type === 'p' && proofAt > 0 && final.get('r') === nonce && final.get('c') === 'biws' && user === expected.user && timingSafeEqual(sha256(recovered), storedKey);
    attempts.push({ user, database, ok });
    if (!ok) {
      client.end(fatal('28P01', `password authentication failed for user "${user}"`));
      return;
    }
    client.write(auth(12, Buffer.from(`v=${hmac(hmac(salted, 'Server Key'), authMessage).toString('base64')}`)));

    // Authenticated: the real server (trust) takes over, from its AuthenticationOk on.
    const server = connect(upstream);
    sockets.add(server);
    server.write(startup.raw);
    const leftover = reader.detach();
    if (leftover.byteLength > 0) server.write(leftover);
    client.pipe(server);
    server.pipe(client);
    server.on('error', () => client.destroy());
    server.on('close', () => client.destroy());
    client.on('close', () => server.destroy());
  }

  const listener = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    handle(client).catch(() => client.destroy());
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  front.port = (listener.address() as AddressInfo).port;
  front.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => listener.close(resolve));
  };
  return front;
}
