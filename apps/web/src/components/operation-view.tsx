import { useEffect, useState, type ReactNode } from 'react';
import { assertUnreachable, isOperationKind, type OperationKind } from '../api.ts';
import { b64uToBytes, formatBytes, printableText, sha256Hex, shellQuote } from '../format.ts';
import { revealHidden, ReviewText } from './review-text.tsx';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * An operation as the gateway sent it: a gateway newer than this UI may send a kind it does not
 * know, so each function below handles an unknown kind first, then switches exhaustively over
 * the kinds of libs/contracts (a new kind there fails the compile here).
 */
export interface ReceivedOperation {
  kind: string;
  params: Record<string, unknown>;
}

/**
 * Whether this UI can show the operation completely. Deny by default: an
 * operation it cannot render is one a custodian cannot review, so the
 * request page refuses to sign it.
 */
export function unrenderableReason(op: ReceivedOperation): string | null {
  if (!isOperationKind(op.kind)) return `this UI does not know how to display operations of kind "${op.kind}"`;
  const p = op.params;
  switch (op.kind) {
    case 'sign':
      return b64uToBytes(p.payload) === null ? 'the payload is not valid base64url' : null;
    case 'http':
      return str(p.method) === null || str(p.path) === null ? 'the HTTP operation has no method or path' : null;
    case 'kubernetes.exec':
      return str(p.namespace) === null || str(p.pod) === null || !isStringArray(p.command) ? 'the exec operation lacks namespace, pod or command' : null;
    case 'ssh.exec':
      return str(p.command) === null && !isStringArray(p.command) ? 'the SSH operation has no command' : null;
    case 'sql.exec':
      return str(p.sql) === null ? 'the SQL operation has no statement' : null;
    case 'reveal':
    case 'credential.reshare':
    case 'credential.rotate':
      return null;
    default:
      return assertUnreachable(op.kind, 'operation kind');
  }
}

/** One line for lists: what the operation does, with hidden characters made visible. */
export function operationSummary(op: ReceivedOperation): string {
  return revealHidden(rawSummary(op)).shown;
}

function rawSummary(op: ReceivedOperation): string {
  if (!isOperationKind(op.kind)) return `unknown operation "${op.kind}"`;
  const p = op.params;
  switch (op.kind) {
    case 'sign': {
      const bytes = b64uToBytes(p.payload);
      return `sign ${bytes === null ? 'an invalid payload' : formatBytes(bytes.byteLength)}${str(p.format) === 'jws' ? ' as JWS' : ''}`;
    }
    case 'http':
      return `${String(p.method)} ${String(p.path)}`;
    case 'kubernetes.exec':
      return `exec in ${String(p.namespace)}/${String(p.pod)}: ${isStringArray(p.command) ? shellQuote(p.command) : '?'}`;
    case 'ssh.exec':
      return `ssh: ${isStringArray(p.command) ? shellQuote(p.command) : String(p.command)}`;
    case 'sql.exec':
      return `SQL: ${String(p.sql).replace(/\s+/g, ' ').slice(0, 80)}`;
    case 'reveal':
      return 'reveal the secret (break-glass)';
    case 'credential.reshare':
      return 'custody: re-share the credential';
    case 'credential.rotate':
      return 'custody: rotate the credential';
    default:
      return assertUnreachable(op.kind, 'operation kind');
  }
}

function SignPayload({ payload }: { payload: Uint8Array<ArrayBuffer> }) {
  const [hash, setHash] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    sha256Hex(payload).then((h) => live && setHash(h), () => live && setHash('could not hash'));
    return () => {
      live = false;
    };
  }, [payload]);
  const text = printableText(payload);
  return (
    <>
      <dt>Payload size</dt>
      <dd data-testid="payload-size">{formatBytes(payload.byteLength)}</dd>
      <dt>Payload SHA-256</dt>
      <dd>
        <code className="wrap" data-testid="payload-sha256">
          {hash ?? 'computing…'}
        </code>
      </dd>
      {text !== null && (
        <>
          <dt>Payload as text</dt>
          <dd>
            <pre className="code">{text.length > 2000 ? `${text.slice(0, 2000)}… (${text.length - 2000} more characters)` : text}</pre>
          </dd>
        </>
      )}
    </>
  );
}

/** The fields of a known kind, in words; `p` is the operation's params. */
function kindFields(kind: OperationKind, p: Record<string, unknown>): ReactNode {
  switch (kind) {
    case 'sign': {
      const bytes = b64uToBytes(p.payload);
      return (
        <>
          <dt>Format</dt>
          <dd>{str(p.format) ?? 'raw'}{str(p.alg) !== null ? `, algorithm ${String(p.alg)}` : ''}</dd>
          {bytes !== null && <SignPayload payload={bytes} />}
        </>
      );
    }
    case 'http':
      return (
        <>
          <dt>Request</dt>
          <dd>
            <ReviewText as="code" className="big" text={`${String(p.method)} ${String(p.path)}`} />
          </dd>
          {p.headers !== undefined && (
            <>
              <dt>Headers</dt>
              <dd>
                <ReviewText as="pre" className="code" text={JSON.stringify(p.headers, null, 2)} />
              </dd>
            </>
          )}
          {p.body !== undefined && (
            <>
              <dt>Body</dt>
              <dd>
                <ReviewText as="pre" className="code" text={typeof p.body === 'string' ? p.body : JSON.stringify(p.body, null, 2)} />
              </dd>
            </>
          )}
        </>
      );
    case 'kubernetes.exec':
      return (
        <>
          <dt>Namespace</dt>
          <dd>
            <ReviewText as="code" text={String(p.namespace)} />
          </dd>
          <dt>Pod</dt>
          <dd>
            <ReviewText as="code" text={String(p.pod)} />
          </dd>
          <dt>Container</dt>
          <dd>{str(p.container) !== null ? <ReviewText as="code" text={String(p.container)} /> : 'the pod’s default container'}</dd>
          <dt>Command</dt>
          <dd>
            <ReviewText as="pre" className="code" text={isStringArray(p.command) ? shellQuote(p.command) : JSON.stringify(p.command)} />
          </dd>
        </>
      );
    case 'ssh.exec':
      return (
        <>
          <dt>{isStringArray(p.command) ? 'Command (argv: each argument quoted, the shell expands nothing)' : 'Command (run by the remote shell as written)'}</dt>
          <dd>
            <ReviewText as="pre" className="code" text={isStringArray(p.command) ? shellQuote(p.command) : String(p.command)} />
          </dd>
        </>
      );
    case 'sql.exec':
      return (
        <>
          <dt>SQL</dt>
          <dd>
            <ReviewText as="pre" className="code" text={String(p.sql)} />
          </dd>
          <dt>Mode</dt>
          <dd>{p.readOnly === false ? <strong className="danger-text">read-write</strong> : 'read-only'}</dd>
        </>
      );
    case 'reveal':
      return (
        <>
          <dt>Effect</dt>
          <dd>
            <strong className="danger-text">Break-glass: the requester receives the credential’s secret itself.</strong>
          </dd>
        </>
      );
    case 'credential.reshare':
    case 'credential.rotate':
      return (
        <>
          <dt>Effect</dt>
          <dd>
            <strong className="danger-text">{kind === 'credential.reshare' ? 'Custody: the credential is re-shared to the structure below (a new version).' : 'Custody: the credential is rotated (new secret and/or config, a new version).'}</strong>
          </dd>
          <dt>Parameters</dt>
          <dd>
            <ReviewText as="pre" className="code" text={JSON.stringify(p, null, 2)} />
          </dd>
        </>
      );
    default:
      return assertUnreachable(kind, 'operation kind');
  }
}

/** A kind this UI does not know: its raw parameters (and unrenderableReason refuses to sign it). */
function rawParams(p: Record<string, unknown>): ReactNode {
  return (
    <>
      <dt>Parameters</dt>
      <dd>
        <ReviewText as="pre" className="code" text={JSON.stringify(p, null, 2)} />
      </dd>
    </>
  );
}

/** The exact operation, rendered per kind, from the digest input (what the approval signs). */
export function OperationView({ operation }: { operation: ReceivedOperation }) {
  const p = operation.params;
  const why = unrenderableReason(operation);
  const body = isOperationKind(operation.kind) ? kindFields(operation.kind, p) : rawParams(p);
  return (
    <dl className="fields">
      <dt>Operation</dt>
      <dd>
        <code className="big">{operation.kind}</code>
      </dd>
      {body}
      {why !== null && (
        <>
          <dt>Problem</dt>
          <dd className="danger-text">{why}</dd>
        </>
      )}
    </dl>
  );
}
