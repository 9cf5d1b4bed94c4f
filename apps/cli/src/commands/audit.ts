import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { type AuditEntry, type AuditErrorCode, type Checkpoint, claimedCheckpointSeq, verifyAuditLog } from '#libs/audit';
import type { JWK } from '#libs/custodian';
import { ApiClient, isRecord } from '../api-client.js';
import { authenticatedClient } from '../config.js';
import { CliError, ExitCode, usageError } from '../exit-codes.js';
import { globalsOf, note, printJson, printLine } from '../output.js';

const PAGE = 1000;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** A checkpoint as `GET /api/v1/audit/checkpoints` lists it: only `jws` is used, after verifying it. */
interface CheckpointRow {
  seq: number;
  hash: string;
  prev: string | null;
  at: string;
  jws: string;
}

export interface AuditReport {
  ok: boolean;
  entries: number;
  headHash: string;
  checkpoints: number;
  newestCheckpoint: Checkpoint | null;
  /** With --trust: the trusted checkpoint's seq, and whether today's log extends it. */
  trusted?: { seq: number | null; extended: boolean };
  firstBadSeq?: number;
  code?: AuditErrorCode;
  reason?: string;
}

/** Every entry, page by page, in seq order. */
async function fetchEntries(api: ApiClient): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let afterSeq = 0;
  for (;;) {
    const { entries: page } = await api.get<{ entries: AuditEntry[] }>(`/api/v1/audit?afterSeq=${afterSeq}&limit=${PAGE}`);
    entries.push(...page);
    const last = page[page.length - 1];
    if (page.length < PAGE || last === undefined) return entries;
    if (!(last.seq > afterSeq)) throw new CliError('the gateway pages the audit log out of order');
    afterSeq = last.seq;
  }
}

async function fetchCheckpoints(api: ApiClient): Promise<string[]> {
  const answer = await api.get<{ checkpoints?: unknown }>('/api/v1/audit/checkpoints');
  if (!Array.isArray(answer.checkpoints)) throw new CliError('the gateway answered checkpoints without a checkpoints array');
  // Spec §3 lists bare JWS strings; this gateway lists objects that carry one.
  return answer.checkpoints.map((c: unknown) => (typeof c === 'string' ? c : isRecord(c) && typeof c.jws === 'string' ? c.jws : ''));
}

async function readJwks(api: ApiClient, jwksFile: string | undefined): Promise<{ keys: JWK[] }> {
  let jwks: unknown;
  if (jwksFile !== undefined) {
    try {
      jwks = JSON.parse(await readFile(jwksFile, 'utf8'));
    } catch {
      throw usageError(`--jwks ${jwksFile} is not a readable JSON file`);
    }
  } else {
    jwks = await new ApiClient(api.baseUrl, undefined).get<unknown>('/.well-known/jwks.json');
  }
  if (!isRecord(jwks) || !Array.isArray(jwks.keys)) throw new CliError('the JWKS has no keys array');
  return { keys: jwks.keys as JWK[] };
}

/** A trust file holds one compact checkpoint JWS, as `--save-trust` writes it. */
async function readTrustFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw usageError(`--trust ${file} is not a readable file`);
  }
  const jws = text.trim();
  if (!COMPACT_JWS.test(jws)) throw usageError(`--trust ${file} does not hold a compact checkpoint JWS (save one with qg audit verify --save-trust FILE)`);
  return jws;
}

/** Written whole or not at all: a half-written trust file would fail the next verify. */
async function writeTrustFile(file: string, jws: string): Promise<void> {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, `${jws}\n`, { mode: 0o644, flag: 'wx' });
    await rename(tmp, file);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw new CliError(`cannot write --save-trust ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Offline verification of what the gateway serves: the hash chain from genesis, each
 * checkpoint's signature against the JWKS (the gateway's or a pinned --jwks file), each
 * checkpoint's link to the one before (a deleted or re-signed checkpoint breaks it) and its
 * hash against the chain, and, with `trusted`, that today's checkpoints still hold that one.
 * The gateway's own /audit/verify is not consulted: a rewritten gateway would vouch for itself.
 * Checkpoints are fetched before the entries, so that every checkpointed seq is among them.
 */
export async function verifyServedAuditLog(api: ApiClient, options: { jwksFile?: string; trusted?: string } = {}): Promise<AuditReport & { newestJws: string | null }> {
  const [checkpoints, jwks] = await Promise.all([fetchCheckpoints(api), readJwks(api, options.jwksFile)]);
  const entries = await fetchEntries(api);
  const result = await verifyAuditLog({ checkpoints, entries, trusted: options.trusted }, jwks);
  const newest = result.newest === null ? null : { seq: result.newest.seq, hash: result.newest.hash, prev: result.newest.prev, at: result.newest.at };
  const report = { entries: result.entries, headHash: result.headHash, checkpoints: result.checkpoints, newestCheckpoint: newest, newestJws: result.newest?.jws ?? null };
  const trusted = options.trusted === undefined ? {} : { trusted: { seq: claimedCheckpointSeq(options.trusted) ?? null, extended: result.ok } };
  if (!result.ok) return { ...report, ...trusted, ok: false, firstBadSeq: result.firstBadSeq, code: result.code, reason: result.reason };
  return { ...report, ...trusted, ok: true };
}

export function registerAuditCommands(program: Command, setExitCode: (code: number) => void): void {
  const audit = program.command('audit').description('the hash-chained audit log (needs the auditor role)');

  audit
    .command('verify')
    .description('fetch every entry and signed checkpoint and verify them here, offline, against the gateway JWKS; exit 1 naming the first bad seq')
    .option('--jwks <file>', 'verify checkpoints against this pinned JWKS instead of fetching /.well-known/jwks.json')
    .option('--trust <file>', 'a checkpoint saved earlier (--save-trust): fail unless today\'s log still extends it')
    .option('--save-trust <file>', 'after a successful verification, save the newest checkpoint here for the next --trust')
    .addHelpText(
      'after',
      `
Verifies: each entry's hash and link to the previous one from genesis; each checkpoint's
ES256 signature (typ qg-checkpoint+jwt); that each checkpoint chains to the one before it
(prev), so a deleted or re-signed checkpoint shows; that each checkpoint's seq and hash are
in the chain. A database writer who deletes the newest checkpoints and rewrites the chain
after the last one left is caught only by a checkpoint you saved before (--trust): keep one,
and pin the JWKS (--jwks).

Examples:
  qg audit verify
  curl -s https://qg.example.com/.well-known/jwks.json > jwks.json   # once, pinned
  qg audit verify --jwks jwks.json --save-trust trusted.jws           # once
  qg audit verify --jwks jwks.json --trust trusted.jws --save-trust trusted.jws --json   # every day`,
    )
    .action(async (options: { jwks?: string; trust?: string; saveTrust?: string }, command: Command) => {
      const globals = globalsOf(command);
      const trusted = options.trust === undefined ? undefined : await readTrustFile(options.trust);
      const { api } = await authenticatedClient({ url: globals.url });
      const { newestJws, ...report } = await verifyServedAuditLog(api, { jwksFile: options.jwks, trusted });
      const saveTrust = report.ok && options.saveTrust !== undefined && newestJws !== null ? options.saveTrust : undefined;
      if (saveTrust !== undefined) await writeTrustFile(saveTrust, newestJws ?? '');
      if (globals.json === true) printJson(saveTrust === undefined ? report : { ...report, savedTrust: saveTrust });
      if (!report.ok) {
        note(`qg: audit log BROKEN at seq ${report.firstBadSeq ?? '?'} (${report.code ?? 'unknown'}): ${report.reason ?? 'verification failed'}`);
        if (report.trusted !== undefined) {
          note(`qg: today's audit log does NOT extend the trusted checkpoint of ${options.trust ?? ''} (seq ${report.trusted.seq ?? '?'})`);
        }
        setExitCode(ExitCode.failed);
        return;
      }
      if (options.saveTrust !== undefined && saveTrust === undefined) {
        note('qg: no signed checkpoint to save yet (qg audit checkpoint signs one)');
        setExitCode(ExitCode.failed);
      }
      if (globals.json === true) return;
      printLine(`audit log OK: ${report.entries} entries, head ${report.headHash}`);
      if (report.newestCheckpoint !== null) {
        printLine(`${report.checkpoints} chained checkpoint(s) verified; the newest covers seq ${report.newestCheckpoint.seq} (${report.newestCheckpoint.at})`);
      } else {
        note('qg: warning: no signed checkpoints yet; a re-hashed tail would go unnoticed (qg audit checkpoint signs one)');
      }
      if (report.trusted !== undefined) printLine(`extends the trusted checkpoint at seq ${report.trusted.seq ?? '?'} (${options.trust ?? ''})`);
      if (saveTrust !== undefined) printLine(`saved the checkpoint at seq ${report.newestCheckpoint?.seq ?? '?'} to ${saveTrust}: pass it to --trust next time`);
    });

  audit
    .command('checkpoint')
    .description('ask the gateway to sign a checkpoint of the current head now (it verifies the chain first, and refuses on a broken one)')
    .action(async (_options: unknown, command: Command) => {
      const globals = globalsOf(command);
      const { api } = await authenticatedClient({ url: globals.url });
      const checkpoint = await api.post<CheckpointRow | null>('/api/v1/audit/checkpoints');
      if (globals.json === true) printJson(checkpoint);
      else printLine(checkpoint === null || checkpoint === undefined ? 'the audit log is empty: nothing to sign' : `signed checkpoint at seq ${checkpoint.seq}, head ${checkpoint.hash}`);
    });
}
