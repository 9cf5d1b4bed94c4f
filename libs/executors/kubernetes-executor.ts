import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { isRecord, throwIfAborted, truncate } from './checks.js';
import type { ExecutionInput, Executor } from './executor.js';
import { ExecutorError } from './executor-error.js';
import { parseKubeconfig, type KubeTarget } from './kubeconfig.js';
import { parseKubernetesParams, validateKubernetesConfig, type KubernetesParams } from './kubernetes-params.js';
import { execResult, OutputCapture } from './output-capture.js';

// @kubernetes/client-node 2.x is not used: it imports undici 8, which needs
// Node 22 (it throws at import on Node 20), and its KubeConfig would honour
// `exec`, `auth-provider` and file paths. The exec protocol is small: one
// WebSocket, one byte of channel number in front of each binary message.

/** Offered in this order; both carry the exit status as JSON on channel 3. */
export const KUBERNETES_EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const MAX_MESSAGE_BYTES = 1024 * 1024;
const MAX_STATUS_BYTES = 64 * 1024;
const MAX_ERROR_BODY_BYTES = 4096;

/** The exec URL under the cluster server (which may have a path prefix, as behind Rancher). */
export function execUrl(server: URL, params: KubernetesParams): URL {
  const url = new URL(server.href);
  url.protocol = 'wss:';
  const base = url.pathname.replace(/\/+$/, '');
  url.pathname = `${base}/api/v1/namespaces/${encodeURIComponent(params.namespace)}/pods/${encodeURIComponent(params.pod)}/exec`;
  const query = new URLSearchParams();
  for (const arg of params.command) query.append('command', arg);
  if (params.container !== undefined) query.set('container', params.container);
  query.set('stdin', 'false');
  query.set('stdout', 'true');
  query.set('stderr', 'true');
  query.set('tty', 'false');
  url.search = query.toString();
  return url;
}

/**
 * Turns the status of channel 3 into an exit code: `Success` is 0, a
 * `NonZeroExitCode` failure carries it in `details.causes[reason=ExitCode]`.
 * Any other failure (no such executable, container not running) is an error.
 */
export function exitCodeOf(status: unknown): number {
  if (!isRecord(status)) throw new ExecutorError('UPSTREAM_FAILED', 'kubernetes exec: the status is not a JSON object');
  if (status.status === 'Success') return 0;
  const causes = isRecord(status.details) && Array.isArray(status.details.causes) ? status.details.causes : [];
  const exit = causes.find((c) => isRecord(c) && c.reason === 'ExitCode');
  if (status.status === 'Failure' && isRecord(exit) && typeof exit.message === 'string' && /^\d{1,3}$/.test(exit.message)) {
    return Number(exit.message);
  }
  const message = typeof status.message === 'string' ? status.message : 'no message';
  throw new ExecutorError('UPSTREAM_FAILED', `kubernetes exec failed: ${truncate(message, 300)}`);
}

function redact(text: string, auth: KubeTarget['auth']): string {
  return auth.kind === 'token' ? text.split(auth.token).join('[REDACTED]') : text;
}

/** A refused upgrade: the API server's own Status message where it is useful, never for 401. */
function handshakeRefused(response: IncomingMessage, auth: KubeTarget['auth']): Promise<ExecutorError> {
  const status = response.statusCode ?? 0;
  const label = `HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`;
  if (status === 401) {
    response.resume();
    return Promise.resolve(new ExecutorError('UPSTREAM_FAILED', `the Kubernetes API server refused the credentials (${label})`));
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      let detail = '';
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        if (isRecord(body) && typeof body.message === 'string') detail = `: ${truncate(redact(body.message, auth), 300)}`;
      } catch {
        // not a Status object: the status line says enough
      }
      const what = status === 403 ? 'the Kubernetes API server forbids this exec' : 'the Kubernetes API server refused the exec';
      resolve(new ExecutorError('UPSTREAM_FAILED', `${what} (${label})${detail}`));
    };
    response.on('data', (chunk: Buffer) => {
      if (size < MAX_ERROR_BODY_BYTES) chunks.push(chunk);
      size += chunk.byteLength;
      if (size >= MAX_ERROR_BODY_BYTES) response.destroy();
    });
    response.on('end', done);
    response.on('close', done);
    response.on('error', done);
  });
}

function connectionFailed(error: unknown, server: URL): ExecutorError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return new ExecutorError('UPSTREAM_FAILED', `connection to the Kubernetes API server ${server.origin} failed (${typeof code === 'string' ? code : 'no answer'})`);
}

function run(target: KubeTarget, params: KubernetesParams, signal: AbortSignal): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const stdout = new OutputCapture();
    const stderr = new OutputCapture();
    const statusChunks: Buffer[] = [];
    let settled = false;
    const socket = new WebSocket(execUrl(target.server, params), [...KUBERNETES_EXEC_PROTOCOLS], {
      headers: target.auth.kind === 'token' ? { Authorization: `Bearer ${target.auth.token}` } : {},
      ...(target.auth.kind === 'client-certificate' ? { cert: target.auth.certificate, key: target.auth.key } : {}),
      ...(target.caCertificate === undefined ? {} : { ca: target.caCertificate }),
      ...(target.tlsServerName === undefined ? {} : { servername: target.tlsServerName }),
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      followRedirects: false,
      perMessageDeflate: false,
      maxPayload: MAX_MESSAGE_BYTES,
      handshakeTimeout: 30_000,
    });
    const finish = (outcome: { result: Record<string, unknown> } | { error: ExecutorError }) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      else socket.terminate();
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.result);
    };
    const onAbort = () => finish({ error: new ExecutorError('ABORTED', 'the operation was aborted; the exec stream is closed') });
    signal.addEventListener('abort', onAbort, { once: true });

    socket.on('unexpected-response', (_request, response) => {
      handshakeRefused(response, target.auth).then(
        (error) => finish({ error }),
        () => finish({ error: new ExecutorError('UPSTREAM_FAILED', 'the Kubernetes API server refused the exec') }),
      );
    });
    socket.on('error', (error) => finish({ error: connectionFailed(error, target.server) }));
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.byteLength === 0) {
        finish({ error: new ExecutorError('UPSTREAM_FAILED', 'kubernetes exec: unexpected text message (only binary channel frames are expected)') });
        return;
      }
      const payload = data.subarray(1);
      switch (data[0]) {
        case STDOUT:
          stdout.write(payload);
          return;
        case STDERR:
          stderr.write(payload);
          return;
        case STATUS: {
          statusChunks.push(Buffer.from(payload));
          let status: unknown;
          try {
            status = JSON.parse(Buffer.concat(statusChunks).toString('utf8'));
          } catch {
            if (Buffer.concat(statusChunks).byteLength > MAX_STATUS_BYTES) {
              finish({ error: new ExecutorError('UPSTREAM_FAILED', 'kubernetes exec: the status is not JSON') });
            }
            return;
          }
          try {
            finish({ result: execResult(stdout, stderr, exitCodeOf(status)) });
          } catch (error) {
            finish({ error: error instanceof ExecutorError ? error : new ExecutorError('UPSTREAM_FAILED', 'kubernetes exec: unreadable status') });
          }
          return;
        }
        default:
          // 255 (v5 close of a stream) and anything else: nothing to keep.
          return;
      }
    });
    socket.on('close', () => finish({ error: new ExecutorError('UPSTREAM_FAILED', 'kubernetes exec: the stream closed without an exit status') }));
  });
}

/**
 * `kubernetes.exec` (credential kind `kubeconfig`): runs `params.command` in
 * a pod through the API server's exec WebSocket (`v5.channel.k8s.io` or
 * `v4.channel.k8s.io`), with the kubeconfig's token or client certificate,
 * read from memory only (see `parseKubeconfig`). Returns
 * `{stdout, stderr, exitCode}`; each stream is cut at 64 KiB with
 * `truncated: true`. A non-zero exit is a result, not an error; a refused
 * handshake (401, 403, 404), a TLS failure or a stream without exit status is
 * UPSTREAM_FAILED. Aborting closes the WebSocket.
 *
 * @example
 * const result = await runWithTimeout(kubernetesExecutor, { secret, config: { context: 'prod' },
 *   params: { namespace: 'prod-eu', pod: 'api-0', command: ['cat', '/etc/hostname'] } }, 60_000);
 */
export const kubernetesExecutor: Executor = {
  kind: 'kubernetes.exec',
  credentialKinds: ['kubeconfig'],

  validateConfig(config: unknown): Record<string, unknown> {
    return { ...validateKubernetesConfig(config) };
  },

  validateParams(params: unknown): Record<string, unknown> {
    const { namespace, pod, container, command } = parseKubernetesParams(params);
    return { namespace, pod, ...(container === undefined ? {} : { container }), command };
  },

  async execute({ secret, config, params, signal }: ExecutionInput): Promise<Record<string, unknown>> {
    const { context } = validateKubernetesConfig(config);
    const parsed = parseKubernetesParams(params);
    throwIfAborted(signal);
    const target = parseKubeconfig(secret, context);
    try {
      return await run(target, parsed, signal);
    } finally {
      if (target.auth.kind === 'client-certificate') target.auth.key.fill(0);
    }
  },
};
