import type { Command } from 'commander';
import { CustodianError, prepareDecision, type Decision } from '#libs/custodian';
import type { DecisionResponse, MeView, RequestView } from '../api-types.js';
import { authenticatedClient } from '../config.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { defaultKeyFilePath, loadKeyFile } from '../key-file.js';
import { globalsOf, note, printJson, printLine } from '../output.js';
import { canPrompt, confirm } from '../prompt.js';
import { checkDigest, renderRequest } from '../review.js';
import { KEY_FILE_OPTION_HELP } from './keys.js';

interface DecideOptions {
  yes?: boolean;
  reason?: string;
  keyFile?: string;
}

function custodianErrorExit(error: CustodianError): CliError {
  switch (error.code) {
    case 'DIGEST_MISMATCH':
    case 'DIGEST_INPUT_INVALID':
      return new CliError(`DIGEST MISMATCH: ${error.message}; nothing was signed`);
    case 'REQUEST_EXPIRED':
      return new CliError('the request has expired; nothing was signed', ExitCode.expired);
    case 'REQUEST_KEY_INVALID':
    case 'SHARE_ENVELOPE_INVALID':
    case 'SHARE_HEADER_MISMATCH':
      return new CliError(`your share cannot be handed over: ${error.message} (${error.code})`);
    case 'BACKUP_INVALID':
      return new CliError('the key file does not open with this passphrase');
  }
}

/**
 * One custodian decision. Enforces, before anything is signed: the caller is a
 * user whose enrolled keys are the key file's; the request is pending and the
 * caller one of its custodians who has not decided; the digest recomputed here
 * from digestInput equals the request's digest (prepareDecision checks it again);
 * a person confirmed on a terminal, or passed --yes. What is shown is exactly the
 * object that is signed: the request is fetched once.
 */
async function decide(id: string, decision: Decision, options: DecideOptions, command: Command): Promise<number> {
  const globals = globalsOf(command);
  const { api } = await authenticatedClient({ url: globals.url });
  const me = await api.get<MeView>('/api/v1/me');
  if (me.kind !== 'user') throw new CliError('service accounts cannot approve or reject; log in as a custodian (qg login)', ExitCode.denied);
  if (me.keys === null) throw new CliError('you have no enrolled keys: run qg keygen and qg enrol first', ExitCode.usage);
  const view = await api.get<RequestView>(`/api/v1/requests/${encodeURIComponent(id)}`);
  const check = await checkDigest(view, id);
  const review = await renderRequest(api, view, check);
  const verb = decision === 'approve' ? 'approve' : 'reject';

  if (!check.matches || check.signed === undefined) {
    process.stderr.write(`${review}\n`);
    throw new CliError(`DIGEST MISMATCH for request ${id}: refusing to ${verb}; report it to your security lead`);
  }
  if (view.status !== 'pending') throw new CliError(`request ${id} is ${view.status}; there is nothing to ${verb}`, view.status === 'expired' ? ExitCode.expired : ExitCode.failed);
  if (!view.custodians.includes(me.id)) throw new CliError(`you (${me.username}) are not a custodian of this request's credential`, ExitCode.denied);
  if (view.approvals.some((a) => a.userId === me.id)) throw new CliError(`you already decided on request ${id}`);

  if (globals.json !== true || options.yes !== true) process.stderr.write(`${review}\n`);
  if (options.yes !== true) {
    if (!canPrompt()) throw new CliError(`no terminal to confirm on: review with qg show ${id}, then pass --yes to ${verb}`, ExitCode.usage);
    const question = decision === 'approve' ? `Approve and hand over your share for exactly this ${check.signed.operation.kind} operation?` : `Reject (veto) request ${id}?`;
    if (!(await confirm(question, `pass --yes to ${verb}`))) throw new CliError(`not ${decision === 'approve' ? 'approved' : 'rejected'}: you declined`);
  }

  const keys = await loadKeyFile(options.keyFile ?? defaultKeyFilePath());
  if (keys.publicJwks.signingThumbprint !== me.keys.signingThumbprint || keys.publicJwks.encryptionThumbprint !== me.keys.encryptionThumbprint) {
    throw new CliError(`${keys.path} does not hold the keys enrolled for ${me.username}; use --key-file, or enrol again`);
  }
  const shareEnvelope = decision === 'approve' ? await api.get<{ envelope: string; index: number; group?: number }>(`/api/v1/requests/${encodeURIComponent(id)}/share`) : undefined;
  let prepared;
  try {
    prepared = await prepareDecision({
      request: { id: view.id, digest: view.digest, digestInput: check.signed, requestKey: view.requestKey },
      shareEnvelope:
        shareEnvelope !== undefined
          ? { envelope: shareEnvelope.envelope, index: shareEnvelope.index, ...(shareEnvelope.group !== undefined ? { group: shareEnvelope.group } : {}) }
          : undefined,
      decision,
      userId: me.id,
      keys: { encryptionPrivateKey: keys.keys.encryption.privateKey, signingPrivateKey: keys.keys.signing.privateKey, signingKid: keys.publicJwks.signingThumbprint },
      nowSeconds: Math.floor(Date.now() / 1000),
    });
  } catch (error) {
    if (error instanceof CustodianError) throw custodianErrorExit(error);
    throw error;
  }
  const body = { decision, statement: prepared.statement, ...(prepared.share !== undefined ? { share: prepared.share } : {}), ...(options.reason !== undefined ? { reason: options.reason } : {}) };
  const res = await api.post<DecisionResponse>(`/api/v1/requests/${encodeURIComponent(id)}/approvals`, body);
  if (globals.json === true) {
    printJson(res);
    return ExitCode.ok;
  }
  const r = res.request;
  printLine(`${decision === 'approve' ? 'approved' : 'rejected'} request ${r.id}: ${r.approvalsReceived} of ${r.approvalsRequired} approvals, now ${r.status}`);
  if (decision === 'approve' && r.status === 'pending') note(r.approvalsReceived >= r.approvalsRequired ? 'waiting for the sharing groups still short of their threshold (qg show)' : `waiting for ${r.approvalsRequired - r.approvalsReceived} more approval(s)`);
  return ExitCode.ok;
}

export function registerDecisionCommands(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('approve')
    .description('approve a request: shows exactly what will run, asks to confirm, signs the digest and hands your share over, sealed to the request key')
    .argument('<id>', 'the request id')
    .option('-y, --yes', 'do not ask (the only way without a terminal); review with qg show first')
    .option('-r, --reason <text>', 'a comment for the requester')
    .option('--key-file <path>', KEY_FILE_OPTION_HELP)
    .addHelpText(
      'after',
      `
The key file passphrase comes from QG_KEY_PASSPHRASE or is asked for on the terminal.
Without a terminal and without --yes, qg refuses (exit 2).

Examples:
  qg requests --approvable
  qg approve 0b7d…e1`,
    )
    .action(async (id: string, options: DecideOptions, command: Command) => setExitCode(await decide(id, 'approve', options, command)));

  program
    .command('reject')
    .description('reject (veto) a request: one custodian’s reject ends it')
    .argument('<id>', 'the request id')
    .requiredOption('-r, --reason <text>', 'why: shown to the requester')
    .option('-y, --yes', 'do not ask (the only way without a terminal)')
    .option('--key-file <path>', KEY_FILE_OPTION_HELP)
    .addHelpText(
      'after',
      `
Examples:
  qg reject 0b7d…e1 --reason "not in the change window"`,
    )
    .action(async (id: string, options: DecideOptions, command: Command) => setExitCode(await decide(id, 'reject', options, command)));
}
