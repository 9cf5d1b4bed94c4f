import { compactDecrypt } from 'jose';
import { isRecord, type ApiClient } from './api-client.js';
import { assertUnreachable, isOperationKind, type RequestView } from './api-types.js';
import { CliError, ExitCode } from './exit-codes.js';
import type { LoadedKeys } from './key-file.js';
import { note, printJson } from './output.js';
import { describeApprovals, namesOf, safeText, shortId } from './render.js';

export interface ReportOptions {
  json: boolean;
  timedOut: boolean;
  timeoutSeconds?: number;
  cancelOnTimeout?: boolean;
  /** opens a `reveal` result; asked for only when one arrives */
  revealKeys?: () => Promise<LoadedKeys>;
}

/**
 * Prints a request that ended (or that --timeout gave up on) and returns the exit
 * code: the operation's output on stdout (or the request as JSON), the reason on
 * stderr in one line when it did not succeed.
 */
export async function reportFinal(api: ApiClient, view: RequestView, options: ReportOptions): Promise<number> {
  if (options.timedOut) {
    let current = view;
    if (options.cancelOnTimeout === true) {
      current = await api.post<RequestView>(`/api/v1/requests/${encodeURIComponent(view.id)}/cancel`);
    }
    if (options.json) printJson({ ...current, timedOut: true });
    const what = options.cancelOnTimeout === true ? `cancelled it (${current.status})` : `it is still ${current.status} with approvals ${describeApprovals(current)}, until ${current.expiresAt}`;
    note(`qg: timed out after ${options.timeoutSeconds ?? 0}s waiting for request ${view.id}; ${what}`);
    return ExitCode.expired;
  }
  switch (view.status) {
    case 'succeeded':
      return printSucceeded(view, options);
    case 'failed': {
      if (options.json) printJson(view);
      const error = isRecord(view.result) && typeof view.result.error === 'string' ? view.result.error : 'execution failed';
      note(`qg: request ${view.id} failed: ${safeText(error, true)}`);
      return ExitCode.failed;
    }
    case 'rejected': {
      if (options.json) printJson(view);
      const nameOf = namesOf(view);
      const rejects = view.approvals.filter((a) => a.decision === 'reject');
      const who = rejects.map((a) => `${nameOf(a.userId)}${a.reason !== undefined ? ` ("${safeText(a.reason, true)}")` : ''}`).join(', ');
      note(`qg: request ${view.id} was rejected${who !== '' ? ` by ${who}` : ''}`);
      return ExitCode.denied;
    }
    case 'cancelled':
      if (options.json) printJson(view);
      note(`qg: request ${view.id} was cancelled`);
      return ExitCode.denied;
    case 'expired':
      if (options.json) printJson(view);
      note(`qg: request ${view.id} expired at ${view.expiresAt} with ${view.approvalsReceived} of ${view.approvalsRequired} approvals`);
      return ExitCode.expired;
    case 'pending':
    case 'approved':
    case 'executing':
      throw new CliError(`request ${view.id} is still ${view.status}`);
  }
}

async function printSucceeded(view: RequestView, options: ReportOptions): Promise<number> {
  const result = isRecord(view.result) ? view.result : {};
  // A gateway newer than this qg may answer with a kind it does not know: print the result as it came.
  const kind: string = view.operation.kind;
  if (!isOperationKind(kind)) {
    if (options.json) printJson(view);
    else printJson(view.result);
    note(`qg: request ${shortId(view.id)} succeeded (operation ${safeText(kind, true)} is unknown to this qg version)`);
    return ExitCode.ok;
  }
  switch (kind) {
    case 'sign': {
      if (options.json) {
        printJson(view);
        return ExitCode.ok;
      }
      const value = typeof result.signature === 'string' ? result.signature : result.jws;
      if (typeof value !== 'string') throw new CliError(`request ${view.id} succeeded without a signature in its result`);
      process.stdout.write(`${value}\n`);
      return ExitCode.ok;
    }
    case 'http': {
      const status = typeof result.status === 'number' ? result.status : 0;
      if (options.json) printJson(view);
      else if (result.body !== undefined && result.body !== null) process.stdout.write(typeof result.body === 'string' ? result.body : `${JSON.stringify(result.body)}\n`);
      if (result.truncated === true) note('qg: the response body was cut at 64 KiB');
      if (status >= 400 || status === 0) {
        note(`qg: the remote API answered HTTP ${status}`);
        return ExitCode.failed;
      }
      return ExitCode.ok;
    }
    case 'kubernetes.exec':
    case 'ssh.exec': {
      if (options.json) printJson(view);
      else {
        if (typeof result.stdout === 'string') process.stdout.write(result.stdout);
        if (typeof result.stderr === 'string') process.stderr.write(result.stderr);
      }
      if (result.truncated === true) note('qg: the remote output was cut (too long)');
      const code = result.exitCode;
      if (typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 255) return code;
      note('qg: the remote command ended without an exit code (killed by a signal or the time limit?)');
      return ExitCode.failed;
    }
    case 'sql.exec': {
      if (options.json) {
        printJson(view);
        return ExitCode.ok;
      }
      const rows = Array.isArray(result.rows) ? result.rows.filter(isRecord) : [];
      if (rows.length > 0) {
        const columns = Object.keys(rows[0] ?? {});
        const cell = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '').replace(/[\t\n\r]/g, ' ');
        process.stdout.write(`${[columns.join('\t'), ...rows.map((r) => columns.map((c) => cell(r[c])).join('\t'))].join('\n')}\n`);
      }
      note(`${typeof result.rowCount === 'number' ? result.rowCount : rows.length} row(s)`);
      return ExitCode.ok;
    }
    case 'reveal': {
      if (typeof result.envelope !== 'string') throw new CliError(`request ${view.id} succeeded without an envelope in its result`);
      if (options.revealKeys === undefined) throw new CliError('a reveal result needs your key file');
      const keys = await options.revealKeys();
      const secret = await openReveal(result.envelope, keys, view.id);
      if (options.json) printJson({ ...view, secret: secret.toString('utf8') });
      else process.stdout.write(secret);
      secret.fill(0);
      return ExitCode.ok;
    }
    case 'credential.reshare':
    case 'credential.rotate': {
      if (options.json) printJson(view);
      else process.stdout.write(`credential version ${String(result.version)}${isRecord(result.publicJwk) ? `\npublic key ${JSON.stringify(result.publicJwk)}` : ''}\n`);
      return ExitCode.ok;
    }
    default:
      return assertUnreachable(kind, 'operation kind');
  }
}

/**
 * Opens the break-glass envelope with the own encryption key. Enforces
 * ECDH-ES+A256KW / A256GCM, no compression, and a protected header `req` naming
 * this request (an envelope from another request is refused).
 */
async function openReveal(envelope: string, keys: LoadedKeys, requestId: string): Promise<Buffer> {
  let opened;
  try {
    opened = await compactDecrypt(envelope, keys.keys.encryption.privateKey, {
      keyManagementAlgorithms: ['ECDH-ES+A256KW'],
      contentEncryptionAlgorithms: ['A256GCM'],
      maxDecompressedLength: 0,
    });
  } catch {
    throw new CliError(`the revealed secret does not open with the encryption key of ${keys.path}`);
  }
  const plaintext = Buffer.from(opened.plaintext);
  opened.plaintext.fill(0);
  if (opened.protectedHeader.req !== requestId) {
    plaintext.fill(0);
    throw new CliError(`the revealed secret was sealed for another request (${String(opened.protectedHeader.req)})`);
  }
  return plaintext;
}
