import { Fragment, useEffect, useState } from 'react';
import { api, type Credential, type CredentialHealth, type CredentialVersionEntry } from '../api.ts';
import { CopyButton } from '../components/copy-button.tsx';
import { ErrorMessage, Loading } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { operationSummary } from '../components/operation-view.tsx';
import { PersonName } from '../components/person-name.tsx';
import { ScrollTable } from '../components/scroll-table.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatTime } from '../format.ts';
import { useSession } from '../session.tsx';
import { useLoad } from '../use-load.ts';
import { describeRule } from './policies-page.tsx';

const RECENT_REQUESTS = 10;

type PublicJwk = NonNullable<Credential['publicJwk']>;

/** The signature algorithm a signing key uses when a request names none (spec §8 `sign`). */
function defaultAlg(jwk: PublicJwk): 'ES256' | 'EdDSA' | 'PS256' | 'RS256' {
  if (jwk.kty === 'EC') return 'ES256';
  if (jwk.kty === 'OKP') return 'EdDSA';
  return jwk.alg === 'RS256' ? 'RS256' : 'PS256';
}

/** The public key as PEM (SubjectPublicKeyInfo), made in the browser from the JWK; null where WebCrypto cannot import it. */
async function publicPem(jwk: PublicJwk): Promise<string | null> {
  const bare: JsonWebKey = { kty: jwk.kty, ...(jwk.crv !== undefined ? { crv: jwk.crv } : {}), ...(jwk.x !== undefined ? { x: jwk.x } : {}), ...(jwk.y !== undefined ? { y: jwk.y } : {}), ...(jwk.n !== undefined ? { n: jwk.n, e: jwk.e } : {}) };
  const algorithm: EcKeyImportParams | RsaHashedImportParams | AlgorithmIdentifier =
    jwk.kty === 'EC' ? { name: 'ECDSA', namedCurve: 'P-256' } : jwk.kty === 'OKP' ? { name: 'Ed25519' } : { name: 'RSA-PSS', hash: 'SHA-256' };
  try {
    const key = await crypto.subtle.importKey('jwk', bare, algorithm, true, ['verify']);
    const der = new Uint8Array(await crypto.subtle.exportKey('spki', key));
    const b64 = btoa(String.fromCharCode(...der));
    return `-----BEGIN PUBLIC KEY-----\n${(b64.match(/.{1,64}/g) ?? []).join('\n')}\n-----END PUBLIC KEY-----\n`;
  } catch {
    return null;
  }
}

function opensslSnippet(name: string, alg: string): string {
  const fetchSig = `SIGNATURE=$(qg request sign -c ${name} -r "why" --payload-file release.tar.gz --format ${alg === 'ES256' ? 'der' : 'raw'} --wait)
node -e 'process.stdout.write(Buffer.from(process.argv[1], "base64url"))' "$SIGNATURE" > release.tar.gz.sig`;
  switch (alg) {
    case 'ES256':
      return `${fetchSig}\nopenssl dgst -sha256 -verify ${name}.pem -signature release.tar.gz.sig release.tar.gz`;
    case 'RS256':
      return `${fetchSig}\nopenssl dgst -sha256 -verify ${name}.pem -signature release.tar.gz.sig release.tar.gz`;
    case 'PS256':
      return `${fetchSig}\nopenssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -verify ${name}.pem -signature release.tar.gz.sig release.tar.gz`;
    default:
      return `${fetchSig}\nopenssl pkeyutl -verify -pubin -inkey ${name}.pem -rawin -in release.tar.gz -sigfile release.tar.gz.sig`;
  }
}

function nodeSnippet(jwk: PublicJwk, alg: string): string {
  const { kid: _kid, ...bare } = jwk;
  const options =
    alg === 'ES256'
      ? `{ key, dsaEncoding: 'ieee-p1363' } /* format "raw" (r‖s); 'der' for format "der" */`
      : alg === 'PS256'
        ? '{ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }'
        : 'key';
  return `import { constants, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

const key = createPublicKey({ key: ${JSON.stringify(bare)}, format: 'jwk' });
const signature = Buffer.from(process.env.SIGNATURE, 'base64url'); // the result's "signature"
const ok = verify(${alg === 'EdDSA' ? 'null' : "'sha256'"}, readFileSync('release.tar.gz'), ${options}, signature);
console.log(ok ? 'signature OK' : 'signature does NOT verify');`;
}

function PublicKey({ credential, jwk }: { credential: Credential; jwk: PublicJwk }) {
  const [pem, setPem] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    void publicPem(jwk).then((p) => live && setPem(p));
    return () => {
      live = false;
    };
  }, [jwk]);
  const alg = defaultAlg(jwk);
  const jwkText = JSON.stringify(jwk, null, 2);
  return (
    <section className="card stack" aria-labelledby="public-key-title" data-testid="public-key">
      <h2 id="public-key-title">Public key</h2>
      <p>
        {credential.generated === true ? 'Generated in the gateway and split at once: nobody holds the private key. ' : ''}
        Signatures use <strong>{alg}</strong> unless a request names another algorithm the key allows. Key id (thumbprint) <code className="fingerprint">{jwk.kid}</code>.
      </p>
      <div className="page-head">
        <h3>JWK</h3>
        <CopyButton text={jwkText} label="Copy JWK" />
      </div>
      <pre data-testid="public-jwk">{jwkText}</pre>
      <div className="page-head">
        <h3>PEM</h3>
        {typeof pem === 'string' && <CopyButton text={pem} label="Copy PEM" />}
      </div>
      {pem === undefined ? <Loading what="the PEM form" /> : pem === null ? <p className="muted">This browser cannot convert this key to PEM; use the JWK.</p> : <pre data-testid="public-pem">{pem}</pre>}
      <details>
        <summary>How to verify a signature</summary>
        <p>
          With <code>openssl</code>, save the PEM as <code>{credential.name}.pem</code>.
          {alg === 'ES256' && (
            <>
              {' '}
              openssl takes an ECDSA signature DER-encoded: request it with <code>format: "der"</code> (the default <code>raw</code> gives the JWS form r‖s,
              64 bytes).
            </>
          )}
        </p>
        <pre data-testid="verify-openssl">{opensslSnippet(credential.name, alg)}</pre>
        <p>With node (18 or later):</p>
        <pre data-testid="verify-node">{nodeSnippet(jwk, alg)}</pre>
      </details>
    </section>
  );
}

function Health({ health }: { health: CredentialHealth | null | undefined }) {
  if (health === undefined) return <Loading what="custody health" />;
  if (health === null) return <p className="muted">Custody health is not available to you.</p>;
  return (
    <>
      <p data-testid="health-margin" data-margin={health.margin}>
        {health.margin >= 1 ? (
          <span className="tag tag-ok">margin {health.margin}</span>
        ) : (
          <span className="tag tag-warn" role="alert">
            margin {health.margin}: {health.margin === 0 ? 'one more departure loses this credential' : 'too few custodians count to rebuild it now'}
          </span>
        )}{' '}
        Custodians check in every {health.checkInDays} days.
      </p>
      <ul className="plain">
        {health.groups.flatMap((g) =>
          g.custodians.map((c) => (
            <li key={`${g.name}-${c.userId}`}>
              <PersonName id={c.userId} kind="user" /> {c.live ? <span className="tag tag-ok">counts</span> : <span className="tag tag-warn">does not count: {c.reasons.join(', ')}</span>}{' '}
              <span className="muted">
                last check-in {c.lastCheckInAt === null ? 'never' : formatTime(c.lastCheckInAt)}, due {formatTime(c.checkInDueAt)}
              </span>
            </li>
          )),
        )}
      </ul>
    </>
  );
}

const CHANGE_LABEL: Record<CredentialVersionEntry['change'], string> = {
  'credential.created': 'created',
  'credential.reshare': 're-shared',
  'credential.rotate': 'rotated',
};

/** The credential's versions from the audit log, newest first: when, what changed, by whom, through which request, and the sharing structure. */
function Versions({ versions }: { versions: CredentialVersionEntry[] }) {
  if (versions.length === 0) return <p className="muted">No version history.</p>;
  return (
    <ScrollTable columns={['Version', 'When', 'Change', 'By', 'Sharing']} testId="versions">
          {[...versions].reverse().map((v) => (
            <tr key={v.version}>
              <td>{v.version}</td>
              <td>{formatTime(v.at)}</td>
              <td>
                {v.requestId !== null ? <Link href={`/requests/${v.requestId}`}>{CHANGE_LABEL[v.change]}</Link> : CHANGE_LABEL[v.change]}
                {v.secretChanged && ' · new secret'}
                {v.configChanged && ' · new config'}
              </td>
              <td>
                <PersonName id={v.actor} />
              </td>
              <td>{v.structure.groups.map((g) => `${g.name}: ${g.threshold} of ${g.custodians.length}`).join('; ')}</td>
            </tr>
          ))}
    </ScrollTable>
  );
}

/** One credential: what it is, its public key, custody, the policies that use it and its recent requests. */
export function CredentialPage({ id }: { id: string }) {
  const session = useSession();
  const credential = useLoad(() => api.getCredential(id), [id]);
  const cid = credential.data?.id;
  const health = useLoad(async () => (cid === undefined ? undefined : api.getCredentialHealth(cid).catch(() => null)), [cid]);
  const policies = useLoad(async () => (cid === undefined ? [] : (await api.listPolicies()).filter((p) => p.credentialId === cid)), [cid]);
  const requests = useLoad(async () => (cid === undefined ? [] : (await api.listRequests()).filter((r) => r.credential.id === cid).slice(0, RECENT_REQUESTS)), [cid]);
  const versions = useLoad(async () => (cid === undefined ? undefined : api.listCredentialVersions(cid)), [cid]);

  if (credential.error !== undefined) {
    return (
      <section className="stack">
        <h1>Credential</h1>
        <ErrorMessage title="This credential could not be loaded" error={credential.error} onRetry={credential.reload} />
        <p>
          <Link href="/credentials">All credentials</Link>
        </p>
      </section>
    );
  }
  if (credential.data === undefined) return <Loading what="the credential" />;
  const c = credential.data;
  const config = Object.entries(c.config);

  return (
    <section className="stack" data-testid="credential-page">
      {session.has('security_lead') && (
        <p>
          <Link href="/credentials">← All credentials</Link>
        </p>
      )}
      <h1>
        Credential <code>{c.name}</code>
      </h1>
      <dl className="fields">
        <dt>Kind</dt>
        <dd data-testid="credential-kind">{c.kind}</dd>
        <dt>Version</dt>
        <dd>{c.version}</dd>
        <dt>Created</dt>
        <dd>{formatTime(c.createdAt)}</dd>
        <dt>Quorum</dt>
        <dd>
          {c.sharing.groups.length > 1
            ? c.sharing.groups.map((g) => `any ${g.threshold} of ${g.custodians.length} in ${g.name}`).join(' AND ')
            : `any ${c.threshold} of ${c.custodians.length} custodians`}
        </dd>
        {config.map(([k, v]) => (
          <Fragment key={k}>
            <dt>{k}</dt>
            <dd>
              <code>{typeof v === 'string' ? v : JSON.stringify(v)}</code>
            </dd>
          </Fragment>
        ))}
      </dl>
      {c.publicJwk !== undefined && <PublicKey credential={c} jwk={c.publicJwk} />}
      <section className="card stack" aria-labelledby="custodians-title">
        <h2 id="custodians-title">Custodians</h2>
        <ul className="plain" data-testid="credential-custodians">
          {c.sharing.groups.map((g) => (
            <li key={g.name}>
              {c.sharing.groups.length > 1 && <strong>{g.name} (any {g.threshold}): </strong>}
              {g.custodians.map((cu, i) => (
                <span key={cu.userId}>
                  {i > 0 && ', '}
                  <PersonName id={cu.userId} kind="user" />
                </span>
              ))}
            </li>
          ))}
        </ul>
        <h3>Health</h3>
        <Health health={health.data} />
      </section>
      <section className="card stack" aria-labelledby="policies-title">
        <h2 id="policies-title">Policies that use it</h2>
        {policies.error !== undefined ? (
          <ErrorMessage title="The policies could not be loaded" error={policies.error} onRetry={policies.reload} />
        ) : policies.data === undefined ? (
          <Loading what="policies" />
        ) : policies.data.length === 0 ? (
          <p className="muted">No policy uses this credential: no request can use it until one does.</p>
        ) : (
          <ul className="plain" data-testid="credential-policies">
            {policies.data.map((p) => (
              <li key={p.id}>
                <Link href={`/policies/${p.id}`}>
                  <code>{p.name}</code>
                </Link>{' '}
                <span className="muted">
                  {p.operations.map(describeRule).join('; ')}, at least {p.approvals.min} approvals
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card stack" aria-labelledby="requests-title">
        <h2 id="requests-title">Recent requests</h2>
        {requests.error !== undefined ? (
          <ErrorMessage title="The requests could not be loaded" error={requests.error} onRetry={requests.reload} />
        ) : requests.data === undefined ? (
          <Loading what="requests" />
        ) : requests.data.length === 0 ? (
          <p className="muted">No requests you may see.</p>
        ) : (
          <ul className="plain" data-testid="credential-requests">
            {requests.data.map((r) => (
              <li key={r.id}>
                <StatusBadge status={r.status} /> <Link href={`/requests/${r.id}`}>{operationSummary(r.operation)}</Link> by{' '}
                <PersonName id={r.requester.id} kind={r.requester.kind} request={r} /> <span className="muted">{formatTime(r.createdAt)}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card stack" aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        {versions.error !== undefined ? (
          <ErrorMessage title="The version history could not be loaded" error={versions.error} onRetry={versions.reload} />
        ) : versions.loading && versions.data === undefined ? (
          <Loading what="versions" />
        ) : (
          <Versions versions={versions.data ?? []} />
        )}
      </section>
    </section>
  );
}
