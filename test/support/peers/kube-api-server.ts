import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { makeTestPki, type TestPki } from './tls.js';

/** One exec the fake API server accepted. */
export interface SeenExec {
  namespace: string;
  pod: string;
  container: string | null;
  command: string[];
  protocol: string;
  /** `token` or `cert:<CN>`: how the caller proved who it is. */
  identity: string;
  /** Resolves when the WebSocket is closed (by either side). */
  closed: Promise<void>;
}

export interface FakeKubeApi {
  /** `https://127.0.0.1:<port>` */
  server: string;
  pki: TestPki;
  token: string;
  clientName: string;
  execs: SeenExec[];
  /** Upgrades refused, with the status sent. */
  refused: { status: number; path: string }[];
  /** When true, the server picks v4.channel.k8s.io even if v5 is offered (an older API server). */
  onlyV4: boolean;
  /** A kubeconfig YAML for this server: the given token, or the test client certificate. */
  kubeconfig(options?: { token?: string; clientCertificate?: boolean; ca?: string; context?: string }): string;
  close(): Promise<void>;
}

const EXEC_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/;
const FLOOD_CHUNK = Buffer.alloc(16 * 1024, 'x');

function status(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

function refuse(socket: Duplex, code: number, text: string, body: string): void {
  socket.end(`HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function frame(channel: number, data: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from([channel]), typeof data === 'string' ? Buffer.from(data) : data]);
}

/**
 * The fake "container": it runs no program. Every command prints its argument
 * vector on stdout and where it ran on stderr, and exits with the code of a
 * `--exit=N` argument (0 without one). Three names behave differently:
 * `sleep` prints nothing and never exits, `flood <bytes>` prints that many
 * `x`, `no-such-binary` fails the way a missing executable does.
 */
function runFakeCommand(ws: WebSocket, seen: SeenExec): void {
  const [name, ...args] = seen.command;
  const send = (channel: number, data: Buffer | string) => ws.send(frame(channel, data));
  const finish = (exitCode: number) => {
    if (seen.protocol === 'v5.channel.k8s.io') {
      send(255, Buffer.from([1]));
      send(255, Buffer.from([2]));
    }
    const result =
      exitCode === 0
        ? { metadata: {}, status: 'Success' }
        : {
            metadata: {},
            status: 'Failure',
            message: `command terminated with non-zero exit code: error executing command [${seen.command.join(' ')}], exit code ${exitCode}`,
            reason: 'NonZeroExitCode',
            details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
          };
    send(3, JSON.stringify(result));
    ws.close(1000);
  };
  switch (name) {
    case 'sleep':
      return;
    case 'flood': {
      let left = Number(args[0] ?? '0');
      while (left > 0) {
        const chunk = FLOOD_CHUNK.subarray(0, Math.min(left, FLOOD_CHUNK.byteLength));
        send(1, chunk);
        left -= chunk.byteLength;
      }
      finish(0);
      return;
    }
    case 'no-such-binary':
      send(3, JSON.stringify({ metadata: {}, status: 'Failure', message: 'Internal error occurred: error executing command in container: exec: "no-such-binary": executable file not found in $PATH', reason: 'InternalError', code: 500 }));
      ws.close(1000);
      return;
    default: {
      send(1, `${seen.command.join(' ')}\n`);
      send(2, `ran in ${seen.namespace}/${seen.pod}${seen.container === null ? '' : `/${seen.container}`}\n`);
      const exit = args.map((a) => /^--exit=(\d{1,3})$/.exec(a)).find((m) => m !== null);
      finish(exit ? Number(exit[1]) : 0);
    }
  }
}

/**
 * A Kubernetes API server reduced to pod exec, on 127.0.0.1 over HTTPS with a
 * throwaway CA. It upgrades `/api/v1/namespaces/:ns/pods/:pod/exec` to a
 * WebSocket speaking `v5.channel.k8s.io` (when offered) or `v4.channel.k8s.io`
 * (channel byte 1 stdout, 2 stderr, 3 status JSON), after checking the bearer
 * token, or the client certificate against its CA: anything else gets 401.
 * The namespace `forbidden` gets 403 and the pod `missing` 404, with a
 * Kubernetes Status body.
 */
export async function startFakeKubeApi(token: string, clientName = 'qg-test-user'): Promise<FakeKubeApi> {
  const pki = makeTestPki(clientName);
  const execs: SeenExec[] = [];
  const refused: FakeKubeApi['refused'] = [];
  const api: FakeKubeApi = { server: '', pki, token, clientName, execs, refused, onlyV4: false, kubeconfig: () => '', close: async () => undefined };
  const server = https.createServer({ key: pki.server.key, cert: pki.server.cert, ca: pki.ca, requestCert: true, rejectUnauthorized: false }, (_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' }).end(status(404, 'NotFound', 'only pod exec is served here'));
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered) => (offered.has('v5.channel.k8s.io') && !api.onlyV4 ? 'v5.channel.k8s.io' : 'v4.channel.k8s.io'),
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'https://fake');
    const reject = (code: number, text: string, reason: string, message: string) => {
      refused.push({ status: code, path: url.pathname });
      refuse(socket, code, text, status(code, reason, message));
    };
    const tls = socket as TLSSocket;
    const peer = tls.authorized ? tls.getPeerCertificate() : undefined;
    let identity: string | undefined;
    if (req.headers.authorization === `Bearer ${token}`) identity = 'token';
    else if (req.headers.authorization === undefined && peer?.subject?.CN === clientName) identity = `cert:${clientName}`;
    if (identity === undefined) return reject(401, 'Unauthorized', 'Unauthorized', 'Unauthorized');
    const match = EXEC_PATH.exec(url.pathname);
    if (match === null) return reject(404, 'Not Found', 'NotFound', 'the server could not find the requested resource');
    const [, namespace, pod] = match.map((part) => decodeURIComponent(part)) as [string, string, string];
    if (namespace === 'forbidden') {
      return reject(403, 'Forbidden', 'Forbidden', `pods "${pod}" is forbidden: User "${identity}" cannot create resource "pods/exec" in API group "" in the namespace "${namespace}"`);
    }
    if (pod === 'missing') return reject(404, 'Not Found', 'NotFound', `pods "${pod}" not found`);
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes('v4.channel.k8s.io') && !offered.includes('v5.channel.k8s.io')) {
      return reject(400, 'Bad Request', 'BadRequest', 'the exec subprotocols v4 or v5 are required');
    }
    const command = url.searchParams.getAll('command');
    if (command.length === 0 || url.searchParams.get('stdout') !== 'true' || url.searchParams.get('stderr') !== 'true') {
      return reject(400, 'Bad Request', 'BadRequest', 'you must specify a command and at least one of stdout, stderr');
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const seen: SeenExec = {
        namespace,
        pod,
        container: url.searchParams.get('container'),
        command,
        protocol: ws.protocol,
        identity: identity as string,
        closed: new Promise((resolve) => ws.once('close', () => resolve())),
      };
      execs.push(seen);
      runFakeCommand(ws, seen);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const kubeconfig: FakeKubeApi['kubeconfig'] = (options = {}) => {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const user = options.clientCertificate
      ? `    client-certificate-data: ${b64(pki.client.cert)}\n    client-key-data: ${b64(pki.client.key)}\n`
      : `    token: ${options.token ?? token}\n`;
    return [
      'apiVersion: v1',
      'kind: Config',
      `current-context: ${options.context ?? 'fake'}`,
      'preferences: {}',
      'clusters:',
      '- name: fake-cluster',
      '  cluster:',
      `    server: ${origin}`,
      `    certificate-authority-data: ${b64(options.ca ?? pki.ca)}`,
      'contexts:',
      `- name: ${options.context ?? 'fake'}`,
      '  context:',
      '    cluster: fake-cluster',
      '    user: fake-user',
      '    namespace: default',
      'users:',
      '- name: fake-user',
      '  user:',
      user,
    ].join('\n');
  };

  Object.assign(api, {
    server: origin,
    kubeconfig,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
  return api;
}
