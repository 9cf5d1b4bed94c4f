import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { AuditError, checkCheckpointsAgainstChain, verifyChain, verifyCheckpoint, type AuditEntry, type Checkpoint } from '#libs/audit';
import type { JWK } from '#libs/custodian';
import { ApiClient, isRecord } from '../api-client.js';
import { authenticatedClient } from '../config.js';
import { CliError, ExitCode, usageError } from '../exit-codes.js';
import { globalsOf, note, printJson, printLine } from '../output.js';

const PAGE = 1000;

interface CheckpointRow {
  seq: number;
  headHash: string;
  at: string;
  jws: string;
}

export interface AuditReport {
  ok: boolean;
  entries: number;
  headHash: string;
  checkpoints: number;
  newestCheckpoint: Checkpoint | null;
  firstBadSeq?: number;
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

/**
 * Offline verification of what the gateway serves: the hash chain from genesis,
 * every checkpoint's signature against the JWKS (the gateway's or a pinned
 * --jwks file) and each checkpoint against the chain. The gateway's own
 * /audit/verify is not consulted: a rewritten gateway would vouch for itself.
 */
export async function verifyAuditLog(api: ApiClient, jwksFile?: string): Promise<AuditReport> {
  const [entries, { checkpoints: rows }, jwks] = await Promise.all([
    fetchEntries(api),
    api.get<{ checkpoints: CheckpointRow[] }>('/api/v1/audit/checkpoints'),
    readJwks(api, jwksFile),
  ]);
  const chain = verifyChain(entries);
  const base = { entries: chain.entries, headHash: chain.headHash, checkpoints: rows.length, newestCheckpoint: null };
  if (!chain.ok) return { ...base, ok: false, firstBadSeq: chain.firstBadSeq, reason: chain.reason };
  const verified: Checkpoint[] = [];
  for (const row of rows) {
    try {
      verified.push(await verifyCheckpoint(row.jws, jwks));
    } catch (error) {
      if (!(error instanceof AuditError)) throw error;
      return { ...base, ok: false, firstBadSeq: row.seq, reason: `the checkpoint at seq ${row.seq} has no valid gateway signature: ${error.message}` };
    }
  }
  const anchored = checkCheckpointsAgainstChain(verified, entries);
  const newest = verified.reduce<Checkpoint | null>((a, c) => (a === null || c.seq > a.seq ? c : a), null);
  if (!anchored.ok) return { ...base, newestCheckpoint: newest, ok: false, firstBadSeq: anchored.firstBadSeq, reason: anchored.reason };
  return { ...base, newestCheckpoint: newest, ok: true };
}

export function registerAuditCommands(program: Command, setExitCode: (code: number) => void): void {
  const audit = program.command('audit').description('the hash-chained audit log (needs the auditor role)');

  audit
    .command('verify')
    .description('fetch every entry and signed checkpoint and verify them here, offline, against the gateway JWKS; exit 1 naming the first bad seq')
    .option('--jwks <file>', 'verify checkpoints against this pinned JWKS instead of fetching /.well-known/jwks.json')
    .addHelpText(
      'after',
      `
Verifies: each entry's hash and link to the previous one from genesis; each checkpoint's
ES256 signature (typ qg-checkpoint+jwt); that each checkpoint's seq and head hash are in
the chain. Without checkpoints, a rewritten and re-hashed tail cannot be told apart:
pin the JWKS (--jwks) and keep the head hash this prints.

Examples:
  qg audit verify
  curl -s https://qg.example.com/.well-known/jwks.json > jwks.json   # once, pinned
  qg audit verify --jwks jwks.json --json`,
    )
    .action(async (options: { jwks?: string }, command: Command) => {
      const globals = globalsOf(command);
      const { api } = await authenticatedClient({ url: globals.url });
      const report = await verifyAuditLog(api, options.jwks);
      if (globals.json === true) printJson(report);
      if (!report.ok) {
        note(`qg: audit log BROKEN at seq ${report.firstBadSeq ?? '?'}: ${report.reason ?? 'verification failed'}`);
        setExitCode(ExitCode.failed);
        return;
      }
      if (globals.json === true) return;
      printLine(`audit log OK: ${report.entries} entries, head ${report.headHash}`);
      if (report.newestCheckpoint !== null) {
        printLine(`${report.checkpoints} signed checkpoint(s) verified; the newest covers seq ${report.newestCheckpoint.seq} (${report.newestCheckpoint.at})`);
      } else {
        note('qg: warning: no signed checkpoints yet; a re-hashed tail would go unnoticed (qg audit checkpoint signs one)');
      }
    });

  audit
    .command('checkpoint')
    .description('ask the gateway to sign a checkpoint of the current head now')
    .action(async (_options: unknown, command: Command) => {
      const globals = globalsOf(command);
      const { api } = await authenticatedClient({ url: globals.url });
      const checkpoint = await api.post<CheckpointRow | null>('/api/v1/audit/checkpoints');
      if (globals.json === true) printJson(checkpoint);
      else printLine(checkpoint === null || checkpoint === undefined ? 'the audit log is empty: nothing to sign' : `signed checkpoint at seq ${checkpoint.seq}, head ${checkpoint.headHash}`);
    });
}
