import { decodeProtectedHeader } from 'jose';
import type { RequestStatus } from '#libs/contracts';
import type { GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { rowMac, rowMacChecks } from '../keys/mac-key.js';
import { prepared, queryPrepared } from '../persistence/prepared.js';
import { isUuid } from '../users/accounts.repository.js';
import { listShares, type ShareRow } from './credentials.repository.js';

type AssignmentContext = Pick<GatewayContext, 'masterKey' | 'log' | 'dataSource'>;

/**
 * Who holds which share of a credential version, as its MAC binds it (spec §2 item 11):
 * the custodian, the share's index (and group, for grouped sharing), the thumbprint of
 * the key its envelope is sealed to, and its commitment.
 */
export interface ShareAssignment {
  cred: string;
  ver: number;
  userId: string;
  idx: number;
  /** only for grouped credentials (§3a); absent, not null, for the flat form */
  grp?: number;
  kid: string;
  commitment: string;
}

/** A share row as stored: the assignment it claims (with its group, null for one group), and the envelope whose header names the key. */
export type StoredShare = Omit<ShareRow, 'sealedAt'>;

/** The MAC stored on a credential_shares row at creation, over JCS `{cred, ver, userId, idx, kid, commitment}` (+ `grp` when grouped). */
export function shareAssignmentMac(masterKey: Uint8Array, assignment: ShareAssignment): string {
  return rowMac(masterKey, 'share-assignment', assignment);
}

/** The thumbprint of the key a share envelope is sealed to (its protected header `kid`); undefined if unreadable. */
export function sealedToKid(envelope: string): string | undefined {
  return envelopeHeader(envelope)?.kid;
}

function envelopeHeader(envelope: string): { kid?: string; cred?: unknown; ver?: unknown; idx?: unknown; grp?: unknown } | undefined {
  try {
    const header = decodeProtectedHeader(envelope);
    return { ...header, kid: typeof header.kid === 'string' ? header.kid : undefined };
  } catch {
    return undefined;
  }
}

/**
 * Whether a stored row's MAC vouches for it. The `kid` is read from the envelope's
 * protected header, which must also name the row's own credential, version and index:
 * an envelope moved to another row, or sealed to another key, fails.
 */
function rowChecks(masterKey: Uint8Array, row: StoredShare): boolean {
  const header = envelopeHeader(row.envelope);
  const grp = row.group ?? undefined;
  if (header?.kid === undefined || header.cred !== row.credentialId || header.ver !== row.version || header.idx !== row.index || header.grp !== grp) return false;
  const assignment: ShareAssignment = {
    cred: row.credentialId,
    ver: row.version,
    userId: row.custodianId,
    idx: row.index,
    ...(grp !== undefined ? { grp } : {}),
    kid: header.kid,
    commitment: row.commitment,
  };
  return rowMacChecks(masterKey, 'share-assignment', assignment, row.assignmentMac);
}

/** Names nobody: the rows were changed by someone without the master key, not by a custodian. */
export class ShareAssignmentIntegrityError extends AppError {
  constructor() {
    super(
      'CONFLICT',
      'the share assignments of this credential failed their integrity check (changed in the database, or made before assignments carried a MAC), so no share of it is handed out or combined: ' +
        'a security lead must create the credential anew; the server log names the rows',
    );
    this.name = 'ShareAssignmentIntegrityError';
  }
}

function refuse(ctx: AssignmentContext, credentialId: string, version: number, shareIndexes: number[]): never {
  ctx.log.error(
    { credentialId, version, shareIndexes },
    'share assignments fail their MAC: credential_shares rows were changed by a database writer without the master key, or made before assignments carried a MAC; the credential is not used',
  );
  throw new ShareAssignmentIntegrityError();
}

const REQUEST_SHARE = prepared(
  'qg_checked_request_share',
  `WITH r AS (SELECT status, digest_input #>> '{credential,id}' AS cred, digest_input #>> '{credential,version}' AS ver FROM requests WHERE id = $1)
   SELECT r.status, s.credential_id AS "credentialId", s.version, s.share_index AS "index", s.custodian_id AS "custodianId",
          s.envelope, s.commitment, s.share_group AS "group", s.assignment_mac AS "assignmentMac"
     FROM r LEFT JOIN credential_shares s
       ON s.credential_id = CASE WHEN r.cred ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN r.cred::uuid END
      AND s.version = CASE WHEN r.ver ~ '^[0-9]{1,9}$' THEN r.ver::integer END
      AND s.custodian_id = $2`,
);

/**
 * Enforces spec §2 item 11 for `GET /api/v1/requests/:id/share`: a request's status
 * and, when `custodianId` holds a share of the credential version the request's
 * signed `digestInput` names, that share, handed out only once its assignment MAC
 * checks for this very custodian, index, key and commitment. A row whose custodian,
 * index, commitment or envelope was swapped with another's fails: logged, and
 * ShareAssignmentIntegrityError (409, naming nobody). Undefined when there is no
 * such request.
 */
export async function findCheckedRequestShare(
  ctx: AssignmentContext,
  requestId: string,
  custodianId: string,
): Promise<{ status: RequestStatus; share: { envelope: string; index: number; group: number | null; version: number } | null } | undefined> {
  if (!isUuid(requestId) || !isUuid(custodianId)) return undefined;
  const rows = await queryPrepared<{ status: RequestStatus } & { [K in keyof StoredShare]: StoredShare[K] | null }>(ctx.dataSource, REQUEST_SHARE, [requestId, custodianId]);
  const row = rows[0];
  if (row === undefined) return undefined;
  const { credentialId, version, index, envelope, commitment } = row;
  if (credentialId === null || version === null || index === null || envelope === null || commitment === null) return { status: row.status, share: null };
  const stored: StoredShare = { credentialId, version, index, custodianId, envelope, commitment, group: row.group, assignmentMac: row.assignmentMac };
  if (!rowChecks(ctx.masterKey, stored)) refuse(ctx, credentialId, version, [index]);
  return { status: row.status, share: { envelope, index, group: row.group, version } };
}

/**
 * Enforces spec §2 item 11 for check-ins and health: the shares of one credential
 * version, each handed back only once its assignment MAC checks (same custodian,
 * index, key and commitment as sealed). Any row that fails: logged, and
 * ShareAssignmentIntegrityError (409, naming nobody). Read in `db` (a transaction,
 * to see the same version as the writes that follow).
 */
export async function checkedVersionShares(ctx: AssignmentContext, db: Pick<GatewayContext['dataSource'], 'query'>, credentialId: string, version: number): Promise<ShareRow[]> {
  const rows = await listShares(db, credentialId, version);
  const failed = rows.filter((row) => !rowChecks(ctx.masterKey, row)).map((row) => row.index);
  if (failed.length > 0) refuse(ctx, credentialId, version, failed);
  return rows;
}

/** An assignment whose MAC checked: safe to take a commitment from. */
export interface VerifiedAssignment {
  userId: string;
  index: number;
  /** the 0-based group (spec §3a); null for one group */
  grp: number | null;
  commitment: string;
  /** thumbprint of the custodian key the share is sealed to */
  kid: string;
}

/**
 * Enforces spec §2 item 11 at execution: the assignments of the credential version
 * the request's signed `digestInput` names, read afresh and each MAC-checked, in
 * index order. Fails closed, naming nobody (logged, ShareAssignmentIntegrityError),
 * when any row of that version fails its MAC, when there is none, or when one of
 * `view.custodians` is not exactly a checked assignment (same user, index and
 * commitment). Take commitments only from the answer, through `assignedCommitment`.
 *
 * @example
 * const assignments = await verifiedAssignments(this.ctx, view);
 * const commitment = assignedCommitment(assignments, approval.approverId, approval.shareIndex);
 * if (commitment === undefined) bad.push({ approverId, reason: 'SHARE_NOT_ASSIGNED' });
 */
export async function verifiedAssignments(
  ctx: AssignmentContext,
  view: { request: { digestInput: { credential: { id: string; version: number } } }; custodians: readonly { userId: string; index: number; group: number | null; commitment: string }[] },
): Promise<VerifiedAssignment[]> {
  const { id: credentialId, version } = view.request.digestInput.credential;
  const rows = isUuid(credentialId) && Number.isSafeInteger(version) ? await listShares(ctx.dataSource, credentialId, version) : [];
  if (rows.length === 0) refuse(ctx, credentialId, version, []);
  const failed = rows.filter((row) => !rowChecks(ctx.masterKey, row)).map((row) => row.index);
  if (failed.length > 0) refuse(ctx, credentialId, version, failed);
  const verified = rows.map((row) => ({ userId: row.custodianId, index: row.index, grp: row.group, commitment: row.commitment, kid: sealedToKid(row.envelope) ?? '' }));
  const differing = view.custodians.filter((c) => !verified.some((v) => v.index === c.index && v.grp === c.group && v.userId === c.userId && v.commitment === c.commitment));
  if (differing.length > 0) refuse(ctx, credentialId, version, differing.map((c) => c.index));
  return verified;
}

/** The commitment of share (`grp`, `index`), only if that share is assigned to `userId`; undefined otherwise. */
export function assignedCommitment(assignments: readonly VerifiedAssignment[], userId: string, index: number | null, grp: number | null = null): string | undefined {
  const assignment = assignments.find((a) => a.index === index && a.grp === grp);
  return assignment !== undefined && assignment.userId === userId ? assignment.commitment : undefined;
}
