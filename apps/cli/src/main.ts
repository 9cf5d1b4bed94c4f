import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ApiError, oneLine } from './api-client.js';
import { registerAuditCommands } from './commands/audit.js';
import { PASSWORD_CHANGE_HINT, registerAuthCommands } from './commands/auth.js';
import { registerCheckInCommands } from './commands/checkin.js';
import { registerCredentialCommands } from './commands/credential.js';
import { registerDecisionCommands } from './commands/decide.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerRequestCommands } from './commands/request.js';
import { registerRequestsCommands } from './commands/requests.js';
import { CliError, EXIT_CODES_HELP, ExitCode } from './exit-codes.js';

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'quorumgate' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here: one level up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

const MAIN_HELP = `
Environment:
  QG_URL             the gateway URL (instead of --url)
  QG_TOKEN           a bearer token for CI: a service-account token (qgs_…) or an access token;
                     wins over the session cached by qg login
  QG_KEY_PASSPHRASE  the passphrase of your custodian key file (else asked on the terminal)
  QG_KEY_FILE        the custodian key file (default: <config dir>/custodian-keys.json)
  XDG_CONFIG_HOME    the config dir is $XDG_CONFIG_HOME/quorumgate, else ~/.config/quorumgate

Examples:
  qg login --url https://qg.example.com alice        # operators: once per session
  qg keygen && qg enrol                               # operators: once
  qg requests --approvable
  qg show 0b7d…e1 && qg approve 0b7d…e1
  QG_URL=https://qg.example.com QG_TOKEN=qgs_… \\
    qg request sign --credential release-key --reason "release $TAG" --payload-file SHA256SUMS --wait > SHA256SUMS.sig
  qg audit verify

${EXIT_CODES_HELP}`;

export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('qg')
    .description('quorumgate command-line client: submit privileged requests, approve them as a custodian, verify the audit log')
    .version(packageVersion(), '-V, --version')
    .option('--url <url>', 'the gateway URL (default: QG_URL, else the URL of the last qg login)')
    .option('--json', 'machine-readable JSON on stdout')
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError()
    .addHelpText('after', MAIN_HELP)
    .exitOverride();
  program.configureHelp({ sortSubcommands: false, showGlobalOptions: true });

  registerAuthCommands(program);
  registerKeyCommands(program);
  registerRequestCommands(program, setExitCode);
  registerRequestsCommands(program, setExitCode);
  registerDecisionCommands(program, setExitCode);
  registerCheckInCommands(program, setExitCode);
  registerCredentialCommands(program, setExitCode);
  registerAuditCommands(program, setExitCode);

  // Every subcommand reports usage errors through the same exit code.
  const inherit = (command: Command) => {
    for (const sub of command.commands) {
      sub.exitOverride().showHelpAfterError('(add --help for usage)');
      if (sub.commands.length === 0) sub.addHelpText('after', `\n${EXIT_CODES_HELP}`);
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

/** Parses argv, runs the command and returns the exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; a group without its subcommand shows help as an error
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof CliError) {
      process.stderr.write(`qg: ${oneLine(error.message)}\n`);
      if (error instanceof ApiError && error.code === 'PASSWORD_CHANGE_REQUIRED') process.stderr.write(`qg: ${PASSWORD_CHANGE_HINT}\n`);
      return error.exitCode;
    }
    process.stderr.write(`qg: unexpected error: ${oneLine(error instanceof Error ? error.message : String(error))}\n`);
    if (process.env.QG_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
    return ExitCode.failed;
  }
}

/** The `qg` binary: run, flush stdout and stderr, exit with the code. */
export async function run(argv: string[] = process.argv): Promise<never> {
  const code = await main(argv);
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0) resolve();
    else stream.write('', () => resolve());
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void run();
}
