import type { Command } from 'commander';
import type { MeView } from '../api-types.js';
import { authenticatedClient } from '../config.js';
import { usageError } from '../exit-codes.js';
import { createKeyFile, defaultKeyFilePath, loadKeyFile, readPassphrase } from '../key-file.js';
import { globalsOf, note, printJson, printLine } from '../output.js';
import { promptHidden, readStdin } from '../prompt.js';

export const KEY_FILE_OPTION_HELP = 'your custodian key file (default: QG_KEY_FILE or <config dir>/custodian-keys.json)';

export function registerKeyCommands(program: Command): void {
  program
    .command('keygen')
    .description('generate your custodian key pairs (P-256 ECDH for shares, P-256 ECDSA for approvals) into a passphrase-encrypted file, mode 0600')
    .option('--key-file <path>', KEY_FILE_OPTION_HELP)
    .option('--force', 'replace an existing key file (you will have to enrol again)')
    .addHelpText(
      'after',
      `
The passphrase comes from QG_KEY_PASSPHRASE or is asked for twice on the terminal.
The private keys never leave the file unencrypted; back the file up somewhere safe:
losing it loses your shares, and a security lead has to re-issue them.

Examples:
  qg keygen && qg enrol`,
    )
    .action(async (options: { keyFile?: string; force?: boolean }, command: Command) => {
      const globals = globalsOf(command);
      const path = options.keyFile ?? defaultKeyFilePath();
      const passphrase = await readPassphrase('create', path);
      const pub = await createKeyFile(path, passphrase, { force: options.force === true });
      if (globals.json === true) {
        printJson({ keyFile: path, encryptionKey: pub.encryptionKey, signingKey: pub.signingKey, encryptionThumbprint: pub.encryptionThumbprint, signingThumbprint: pub.signingThumbprint });
        return;
      }
      printLine(`wrote ${path} (mode 0600)`);
      printLine(`encryption key thumbprint: ${pub.encryptionThumbprint}`);
      printLine(`signing key thumbprint:    ${pub.signingThumbprint}`);
      note('next: qg enrol');
    });

  program
    .command('enrol')
    .alias('enroll')
    .description('send the public halves of your key file to the gateway (PUT /api/v1/me/keys); asks for your password again')
    .option('--key-file <path>', KEY_FILE_OPTION_HELP)
    .option('--password-stdin', 'read your current password from stdin instead of asking on the terminal')
    .addHelpText(
      'after',
      `
The gateway asks for your current password again: a session alone does not change
where your shares are sealed and whose signatures count as yours. Enrolling new
keys while you hold shares is allowed (a lost key file): those shares stay sealed
to the old key, so you count as lost for them until a security lead re-shares
them to your new key (README, "Lost key, step by step").

Examples:
  qg enrol
  printf '%s' "$QG_PASSWORD" | qg enrol --password-stdin`,
    )
    .action(async (options: { keyFile?: string; passwordStdin?: boolean }, command: Command) => {
      const globals = globalsOf(command);
      const { api, connection } = await authenticatedClient({ url: globals.url });
      const loaded = await loadKeyFile(options.keyFile ?? defaultKeyFilePath());
      const currentPassword =
        options.passwordStdin === true
          ? (await readStdin('--password-stdin')).toString('utf8').replace(/\r?\n$/, '')
          : await promptHidden(`Your current password on ${connection.url}: `, 'use --password-stdin');
      if (currentPassword === '') throw usageError('the password is empty');
      const me = await api.put<MeView>('/api/v1/me/keys', { encryptionKey: loaded.publicJwks.encryptionKey, signingKey: loaded.publicJwks.signingKey, currentPassword });
      if (globals.json === true) {
        printJson(me);
        return;
      }
      printLine(`enrolled the keys of ${loaded.path} for ${me.username} on ${connection.url}`);
      printLine(`encryption key thumbprint: ${loaded.publicJwks.encryptionThumbprint}`);
      printLine(`signing key thumbprint:    ${loaded.publicJwks.signingThumbprint}`);
    });
}
