import type { Command } from 'commander';
import type { CheckInResponse, CredentialShare } from '#libs/contracts';
import { CustodianError, prepareCheckIn } from '#libs/custodian';
import type { CredentialView, MeView } from '../api-types.js';
import { authenticatedClient } from '../config.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { defaultKeyFilePath, loadKeyFile } from '../key-file.js';
import { globalsOf, note, printJson, printLine } from '../output.js';
import { safeText } from '../render.js';
import { KEY_FILE_OPTION_HELP } from './keys.js';

interface CheckInOptions {
  keyFile?: string;
}

interface Outcome {
  credential: string;
  at?: string;
  error?: string;
}

/**
 * Check-ins (spec §4a) for the named credentials, or for every credential the caller
 * holds a share of. For each: fetch the own envelope and a one-time challenge, open
 * both with the key file here, compute the commitment, sign, send the statement; the
 * share never leaves this process. Enforces that the key file holds the enrolled keys.
 * Goes on after a failure and exits 1 if any failed.
 */
async function checkIn(names: string[], options: CheckInOptions, command: Command): Promise<number> {
  const globals = globalsOf(command);
  const { api } = await authenticatedClient({ url: globals.url });
  const me = await api.get<MeView>('/api/v1/me');
  if (me.kind !== 'user') throw new CliError('service accounts hold no shares; log in as a custodian (qg login)', ExitCode.denied);
  if (me.keys === null) throw new CliError('you have no enrolled keys: run qg keygen and qg enrol first', ExitCode.usage);
  const { credentials } = await api.get<{ credentials: CredentialView[] }>('/api/v1/credentials');
  const held = credentials.filter((c) => c.custodians.some((cu) => cu.userId === me.id));
  const targets = names.length === 0 ? held : names.map((name) => credentials.find((c) => c.name === name || c.id === name) ?? name);
  if (targets.length === 0) {
    note('you hold no share of any credential');
    if (globals.json === true) printJson({ checkIns: [] });
    return ExitCode.ok;
  }
  const keys = await loadKeyFile(options.keyFile ?? defaultKeyFilePath());
  if (keys.publicJwks.signingThumbprint !== me.keys.signingThumbprint || keys.publicJwks.encryptionThumbprint !== me.keys.encryptionThumbprint) {
    throw new CliError(`${keys.path} does not hold the keys enrolled for ${me.username}; use --key-file, or enrol again`);
  }
  const outcomes: Outcome[] = [];
  for (const target of targets) {
    if (typeof target === 'string') {
      outcomes.push({ credential: target, error: 'no such credential' });
      continue;
    }
    const path = `/api/v1/credentials/${encodeURIComponent(target.id)}`;
    try {
      const share = await api.get<CredentialShare>(`${path}/share`);
      const { statement } = await prepareCheckIn({
        credentialId: target.id,
        share,
        userId: me.id,
        keys: { encryptionPrivateKey: keys.keys.encryption.privateKey, signingPrivateKey: keys.keys.signing.privateKey, signingKid: keys.publicJwks.signingThumbprint },
        nowSeconds: Math.floor(Date.now() / 1000),
      });
      const { at } = await api.post<CheckInResponse>(`${path}/check-ins`, { statement });
      outcomes.push({ credential: target.name, at });
    } catch (error) {
      if (!(error instanceof CliError) && !(error instanceof CustodianError)) throw error;
      outcomes.push({ credential: target.name, error: error instanceof CustodianError ? `${error.message} (${error.code})` : error.message });
    }
  }
  if (globals.json === true) printJson({ checkIns: outcomes });
  else
    for (const o of outcomes) {
      if (o.at !== undefined) printLine(`checked in to ${safeText(o.credential, true)} at ${o.at}`);
      else process.stderr.write(`qg: check-in to ${safeText(o.credential, true)} failed: ${safeText(o.error ?? '', true)}\n`);
    }
  return outcomes.every((o) => o.at !== undefined) ? ExitCode.ok : ExitCode.failed;
}

export function registerCheckInCommands(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('checkin')
    .description('prove you still hold your shares and the key they are sealed to (without revealing them): a custodian who does not check in stops counting')
    .argument('[credential...]', 'credential names or ids; none: every credential you hold a share of')
    .option('--key-file <path>', KEY_FILE_OPTION_HELP)
    .addHelpText(
      'after',
      `
The key file passphrase comes from QG_KEY_PASSPHRASE or is asked for on the terminal.

Examples:
  qg checkin
  qg checkin release-key prod-db`,
    )
    .action(async (names: string[], options: CheckInOptions, command: Command) => setExitCode(await checkIn(names, options, command)));
}
