import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ApiError, type ApiClient, type ApiResponse } from '../api-client.js';
import type { MeView, Operation, SubmittedRequest } from '../api-types.js';
import { authenticatedClient } from '../config.js';
import { CliError, ExitCode, usageError } from '../exit-codes.js';
import { defaultKeyFilePath, loadKeyFile, type LoadedKeys } from '../key-file.js';
import { globalsOf, note, printJson, printLine } from '../output.js';
import { readStdin, stdinIsPiped } from '../prompt.js';
import { reportFinal } from '../result.js';
import { waitForFinal } from '../wait.js';
import { KEY_FILE_OPTION_HELP } from './keys.js';

export function parseWholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('not a whole number');
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('too large');
  return n;
}

export interface SubmitOptions {
  credential: string;
  reason: string;
  wait?: boolean;
  timeout?: number;
  cancelOnTimeout?: boolean;
  ttl?: number;
  idempotencyKey?: string;
  quiet?: boolean;
  keyFile?: string;
}

/** --wait, --timeout, --cancel-on-timeout and --quiet, shared by `qg request …` and `qg wait`. */
export function addWaitOptions(command: Command, withWaitFlag: boolean): Command {
  if (withWaitFlag) command.option('-w, --wait', 'wait for the outcome: progress on stderr, the result on stdout');
  return command
    .option('--timeout <seconds>', `${withWaitFlag ? 'with --wait: ' : ''}give up after this many seconds (exit 4)`, parseWholeNumber)
    .option('--cancel-on-timeout', 'cancel the request when --timeout gives up')
    .option('-q, --quiet', 'no progress on stderr');
}

export function requestCommand(parent: Command, name: string, description: string, examples: string): Command {
  const command = parent
    .command(name)
    .description(description)
    .requiredOption('-c, --credential <name>', 'the credential, by name or id')
    .requiredOption('-r, --reason <text>', 'why: shown to the custodians and part of what they sign')
    .option('--ttl <seconds>', 'how long the request may wait for approvals (at most the policy TTL)', parseWholeNumber)
    .option('--idempotency-key <key>', 'a retry with the same key returns the same request instead of a new one');
  addWaitOptions(command, true);
  command.addHelpText('after', `\nExamples:\n${examples}`);
  return command;
}

export async function readInput(path: string | undefined, what: string): Promise<Buffer | undefined> {
  if (path === '-') return readStdin(what);
  if (path !== undefined) {
    try {
      return await readFile(path);
    } catch (error) {
      throw usageError(`${what}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  return undefined;
}

/** Submits the request; with --wait follows it to the end and returns the exit code. */
export async function submit(
  command: Command,
  operation: Operation,
  options: SubmitOptions,
  revealKeys?: () => Promise<LoadedKeys>,
): Promise<number> {
  const globals = globalsOf(command);
  if (options.wait !== true && (options.timeout !== undefined || options.cancelOnTimeout === true)) throw usageError('--timeout and --cancel-on-timeout need --wait');
  const { api } = await authenticatedClient({ url: globals.url });
  if (operation.kind === 'reveal') await checkReveal(api, options.wait === true ? revealKeys : undefined);
  const body = { credential: options.credential, operation, reason: options.reason, ...(options.ttl !== undefined ? { ttlSeconds: options.ttl } : {}) };
  const headers: Record<string, string> = options.idempotencyKey !== undefined ? { 'idempotency-key': options.idempotencyKey } : {};
  const res = await submitWithRetries(api, body, headers, options.idempotencyKey !== undefined);
  const submitted = res.body;
  const replayed = res.headers.get('idempotent-replayed') === 'true';
  if (options.quiet !== true) {
    note(
      `request ${submitted.id} ${replayed ? 'already submitted (same Idempotency-Key)' : 'submitted'}: ` +
        `${submitted.approvals.required} approval(s) needed, expires ${submitted.expiresAt}`,
    );
  }
  if (options.wait !== true) {
    if (globals.json === true) printJson(submitted);
    else printLine(submitted.id);
    return ExitCode.ok;
  }
  return follow(api, submitted.id, { ...options, json: globals.json === true }, revealKeys);
}

/**
 * With an Idempotency-Key a retry cannot create a second request, so network
 * errors and 5xx answers are retried (three more times); without one, never.
 */
async function submitWithRetries(api: ApiClient, body: unknown, headers: Record<string, string>, retrySafe: boolean): Promise<ApiResponse<SubmittedRequest>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api.send<SubmittedRequest>('POST', '/api/v1/requests', { body, headers });
    } catch (error) {
      const transient = error instanceof CliError && (!(error instanceof ApiError) || error.status >= 500);
      if (!retrySafe || !transient || attempt > 3) throw error;
      note(`qg: ${error.message}; retrying with the same Idempotency-Key (${attempt}/3)`);
      await sleep(1000 * 2 ** (attempt - 1));
    }
  }
}

export async function follow(
  api: ApiClient,
  id: string,
  options: { timeout?: number; cancelOnTimeout?: boolean; quiet?: boolean; json: boolean },
  revealKeys?: () => Promise<LoadedKeys>,
): Promise<number> {
  const { view, timedOut } = await waitForFinal(api, id, { timeoutSeconds: options.timeout, quiet: options.quiet });
  return reportFinal(api, view, { json: options.json, timedOut, timeoutSeconds: options.timeout, cancelOnTimeout: options.cancelOnTimeout, revealKeys });
}

/** Loads the key file once, when first needed. */
export function lazyKeys(path: string | undefined): () => Promise<LoadedKeys> {
  let loaded: Promise<LoadedKeys> | undefined;
  return () => (loaded ??= loadKeyFile(path ?? defaultKeyFilePath()));
}

function collectHeader(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new InvalidArgumentError('use "Name: value"');
  return { ...previous, [value.slice(0, colon).trim()]: value.slice(colon + 1).trim() };
}

export function registerRequestCommands(program: Command, setExitCode: (code: number) => void): void {
  const request = program
    .command('request')
    .description('submit a request for one privileged operation (and with --wait, follow it to its result)')
    .addHelpText(
      'after',
      `
Without --wait the request id is printed on stdout (the submitted request with --json).
With --wait: progress (approvals k of n and who, time left) on stderr, the result on stdout.

Examples:
  qg request sign --credential release-key --reason "release v1.2.3" --payload-file dist/SHA256SUMS --wait > SHA256SUMS.sig
  qg request exec --credential kube-prod --reason "OPS-42 restart worker" --namespace prod --pod worker-0 --wait -- kill -HUP 1`,
    );

  requestCommand(
    request,
    'sign',
    "sign a payload with a signing-key credential; with --wait prints the signature (raw or der, base64url) or the JWS alone",
    `  qg request sign -c release-key -r "release v1.2.3" --payload-file SHA256SUMS --wait
  git rev-parse HEAD | qg request sign -c release-key -r "tag v1.2.3" --format jws --wait --timeout 1800`,
  )
    .option('--payload-file <path>', 'the bytes to sign ("-" or left out: stdin)')
    .addOption(new Option('--format <format>', 'raw: a bare signature (r‖s for ECDSA); der: the same, ECDSA DER-encoded for openssl; jws: a compact JWS with the payload').choices(['raw', 'der', 'jws']).default('raw'))
    .option('--alg <alg>', 'for RSA keys: RS256 instead of PS256')
    .action(async (options: SubmitOptions & { payloadFile?: string; format: string; alg?: string }, command: Command) => {
      let payload = await readInput(options.payloadFile, '--payload-file');
      if (payload === undefined) {
        if (!stdinIsPiped()) throw usageError('give the payload with --payload-file PATH or on stdin');
        payload = await readStdin('the payload');
      }
      if (payload.length === 0) throw usageError('the payload is empty');
      const params = { payload: payload.toString('base64url'), format: options.format, ...(options.alg !== undefined ? { alg: options.alg } : {}) };
      setExitCode(await submit(command, { kind: 'sign', params }, options));
    });

  requestCommand(
    request,
    'http',
    'call the credential’s HTTP API with its token; with --wait prints the response body (exit 1 on HTTP ≥ 400)',
    `  qg request http -c admin-api -r "rotate db password (OPS-7)" --method POST --path /admin/rotate/db --wait
  qg request http -c admin-api -r "OPS-8 enable flag x" --method PUT --path /flags/x --json-body '{"on":true}' --wait`,
  )
    .requiredOption('--method <method>', 'GET, POST, PUT, PATCH, DELETE or HEAD')
    .requiredOption('--path <path>', 'the path below the credential’s baseUrl, e.g. /admin/rotate/db')
    .option('-H, --header <header>', 'a request header "Name: value" (repeatable)', collectHeader)
    .option('--body <text>', 'the request body, as text')
    .option('--body-file <path>', 'the request body from a file ("-": stdin)')
    .option('--json-body <json>', 'a JSON body: sent as JSON with Content-Type application/json')
    .action(
      async (
        options: SubmitOptions & { method: string; path: string; header?: Record<string, string>; body?: string; bodyFile?: string; jsonBody?: string },
        command: Command,
      ) => {
        const given = [options.body, options.bodyFile, options.jsonBody].filter((b) => b !== undefined).length;
        if (given > 1) throw usageError('give one of --body, --body-file, --json-body');
        if (!options.path.startsWith('/')) throw usageError('--path must start with /');
        let body: unknown = options.body ?? (await readInput(options.bodyFile, '--body-file'))?.toString('utf8');
        if (options.jsonBody !== undefined) {
          try {
            body = JSON.parse(options.jsonBody);
          } catch {
            throw usageError('--json-body is not JSON');
          }
        }
        const params = {
          method: options.method.toUpperCase(),
          path: options.path,
          ...(options.header !== undefined ? { headers: options.header } : {}),
          ...(body !== undefined ? { body } : {}),
        };
        setExitCode(await submit(command, { kind: 'http', params }, options));
      },
    );

  requestCommand(
    request,
    'exec',
    'run a command in a Kubernetes pod; with --wait prints its stdout and stderr and exits with its exit code',
    `  qg request exec -c kube-prod -r "OPS-42 inspect" --namespace prod-a --pod web-0 --container app --wait -- ls -la /srv`,
  )
    .requiredOption('--namespace <namespace>', 'the pod’s namespace')
    .requiredOption('--pod <pod>', 'the pod')
    .option('--container <container>', 'the container (default: the pod’s only or first one)')
    .argument('<command...>', 'the command and its arguments, after --')
    .action(async (argv: string[], options: SubmitOptions & { namespace: string; pod: string; container?: string }, command: Command) => {
      const params = { namespace: options.namespace, pod: options.pod, ...(options.container !== undefined ? { container: options.container } : {}), command: argv };
      setExitCode(await submit(command, { kind: 'kubernetes.exec', params }, options));
    });

  requestCommand(
    request,
    'ssh',
    'run a command over SSH on the credential’s (pinned) host; with --wait prints its output and exits with its exit code',
    `  qg request ssh -c db-host -r "OPS-9 restart" --wait -- sudo systemctl restart postgresql\n  qg request ssh -c db-host -r "OPS-12 grep" --argv -- grep -r "disk full" /var/log`,
  )
    .option('--argv', 'send the command as an argument vector: the gateway quotes each argument, the remote shell expands nothing')
    .argument('<command...>', 'the remote command, after -- (without --argv: joined with spaces, run by the remote shell)')
    .action(async (argv: string[], options: SubmitOptions & { argv?: boolean }, command: Command) => {
      setExitCode(await submit(command, { kind: 'ssh.exec', params: { command: options.argv === true ? argv : argv.join(' ') } }, options));
    });

  requestCommand(
    request,
    'sql',
    'run SQL on the credential’s PostgreSQL database (read-only unless --read-write); with --wait prints the rows as TSV',
    `  qg request sql -c orders-db -r "OPS-11 count" --sql "select count(*) from orders" --wait
  qg request sql -c orders-db -r "OPS-12 fix row" --read-write --wait < fix.sql`,
  )
    .option('--sql <sql>', 'the statement(s)')
    .option('--sql-file <path>', 'the statement(s) from a file ("-" or neither option: stdin)')
    .option('--read-write', 'run in a read-write transaction (the default is read-only)')
    .action(async (options: SubmitOptions & { sql?: string; sqlFile?: string; readWrite?: boolean }, command: Command) => {
      if (options.sql !== undefined && options.sqlFile !== undefined) throw usageError('give --sql or --sql-file, not both');
      let sql = options.sql ?? (await readInput(options.sqlFile, '--sql-file'))?.toString('utf8');
      if (sql === undefined) {
        if (!stdinIsPiped()) throw usageError('give the SQL with --sql, --sql-file or on stdin');
        sql = (await readStdin('the SQL')).toString('utf8');
      }
      if (sql.trim() === '') throw usageError('the SQL is empty');
      setExitCode(await submit(command, { kind: 'sql.exec', params: { sql, readOnly: options.readWrite !== true } }, options));
    });

  requestCommand(
    request,
    'reveal',
    'break-glass: have the secret itself sealed to your own encryption key; with --wait decrypts it with your key file and prints it',
    `  qg request reveal -c admin-api -r "INC-77 gateway down, manual rotation" --wait`,
  )
    .option('--key-file <path>', KEY_FILE_OPTION_HELP)
    .action(async (options: SubmitOptions, command: Command) => {
      const keys = lazyKeys(options.keyFile);
      setExitCode(await submit(command, { kind: 'reveal', params: {} }, options, keys));
    });
}

/**
 * Reveal needs a person with enrolled keys, and with --wait the key file that
 * matches them, unlocked now rather than after the custodians approved.
 */
async function checkReveal(api: ApiClient, revealKeys: (() => Promise<LoadedKeys>) | undefined): Promise<void> {
  const me = await api.get<MeView>('/api/v1/me');
  if (me.kind !== 'user' || me.keys === null) throw new CliError('reveal needs a user with enrolled keys (qg keygen, qg enrol)', ExitCode.usage);
  if (revealKeys === undefined) return;
  const keys = await revealKeys();
  if (keys.publicJwks.encryptionThumbprint !== me.keys.encryptionThumbprint) {
    throw new CliError(`${keys.path} is not the key file you enrolled (encryption key ${me.keys.encryptionThumbprint})`);
  }
}
