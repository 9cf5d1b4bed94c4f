/** The exit codes of `qg`, documented in `qg --help` and docs/CLI.md. */
export const ExitCode = {
  ok: 0,
  /** the operation failed: a network or gateway error, a failed execution, a broken audit chain */
  failed: 1,
  /** bad usage: unknown option, missing argument, no terminal to prompt on */
  usage: 2,
  /** denied (401/403), rejected by a custodian, or cancelled */
  denied: 3,
  /** the request expired, or --timeout elapsed while waiting */
  expired: 4,
  /** Ctrl-C, as shells report SIGINT */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports in one line on stderr, then exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.usage);
}

export const EXIT_CODES_HELP = `Exit codes:
  0  ok
  1  operation failed (network or gateway error, failed execution, broken audit log)
  2  usage error (bad option, missing input, no terminal to prompt on)
  3  denied or rejected (401/403, a custodian rejected, the request was cancelled)
  4  expired or timed out (the request expired, --timeout elapsed)
  qg request exec|ssh --wait exits with the remote command's exit code once it ran.`;
