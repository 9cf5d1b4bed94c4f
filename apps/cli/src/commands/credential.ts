import { CompactEncrypt, importJWK } from 'jose';
import { Command, Option } from 'commander';
import type { ApiClient } from '../api-client.js';
import type { CredentialView } from '../api-types.js';
import type { IntakeKey, User } from '#libs/contracts';
import { authenticatedClient } from '../config.js';
import { CliError, ExitCode, usageError } from '../exit-codes.js';
import { globalsOf, printJson, printLine } from '../output.js';
import { readStdin, stdinIsPiped } from '../prompt.js';
import { readInput, requestCommand, submit, type SubmitOptions } from './request.js';

/** A custody request takes a submission's options but --key-file, which only a reveal reads (to open what it answers). */
type CustodyOptions = Omit<SubmitOptions, 'keyFile'>;

async function credentialOf(api: ApiClient, idOrName: string): Promise<CredentialView> {
  return api.get<CredentialView>(`/api/v1/credentials/${encodeURIComponent(idOrName)}`);
}

/** Each named user (username or id) with the thumbprint of their enrolled encryption key: where their new share will be sealed. */
async function custodiansNamed(api: ApiClient, names: string[]): Promise<{ userId: string; kid: string }[]> {
  const { users } = await api.get<{ users: User[] }>('/api/v1/users');
  return names.map((name) => {
    const user = users.find((u) => u.username === name || u.id === name);
    if (user === undefined) throw usageError(`no user "${name}"`);
    if (typeof user.encryptionThumbprint !== 'string') throw new CliError(`${user.username} has no enrolled keys`, ExitCode.usage);
    return { userId: user.id, kid: user.encryptionThumbprint };
  });
}

/** `--group name:threshold:alice,bob`. */
function parseGroup(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function sharingOf(api: ApiClient, options: { threshold?: number; custodian?: string[]; group?: string[] }): Promise<Record<string, unknown>> {
  const flat = options.threshold !== undefined || (options.custodian ?? []).length > 0;
  if (flat === ((options.group ?? []).length > 0)) throw usageError('give either --threshold with --custodian (repeated), or --group (repeated)');
  if (flat) {
    if (options.threshold === undefined || (options.custodian ?? []).length === 0) throw usageError('--threshold and --custodian go together');
    return { threshold: options.threshold, custodians: await custodiansNamed(api, options.custodian ?? []) };
  }
  const groups = [];
  for (const spec of options.group ?? []) {
    const match = /^([^:]+):(\d+):(.+)$/.exec(spec);
    if (match === null) throw usageError(`--group ${spec}: use name:threshold:user1,user2`);
    groups.push({ name: match[1], threshold: Number(match[2]), custodians: await custodiansNamed(api, (match[3] ?? '').split(',').filter((s) => s !== '')) });
  }
  return { groups };
}

/** Seals the new secret here, to a fresh one-time intake key of the credential's current version (spec §3): it leaves this process only encrypted. */
async function sealToIntakeKey(api: ApiClient, credential: CredentialView, secret: Buffer): Promise<string> {
  const intake = await api.post<IntakeKey>(`/api/v1/credentials/${encodeURIComponent(credential.id)}/intake-keys`, {});
  const key = await importJWK(intake.publicJwk, 'ECDH-ES+A256KW');
  try {
    return await new CompactEncrypt(secret)
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: intake.kid, cred: credential.id, ver: credential.version, purpose: 'rotate' })
      .encrypt(key);
  } finally {
    secret.fill(0);
  }
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw usageError(`not a positive whole number: ${value}`);
  return n;
}

export function registerCredentialCommands(program: Command, setExitCode: (code: number) => void): void {
  const credential = program
    .command('credential')
    .description('custody of a credential (security leads): re-share it, rotate it, or get an intake key; each change is a request the current custodians approve');

  credential
    .command('intake-key')
    .description('a one-time key to seal a rotation’s new secret to (valid 1 hour, one request); qg credential rotate does this for you')
    .argument('<credential>', 'name or id')
    .action(async (name: string, _options: unknown, command: Command) => {
      const { api } = await authenticatedClient({ url: globalsOf(command).url });
      const found = await credentialOf(api, name);
      const key = await api.post<IntakeKey>(`/api/v1/credentials/${encodeURIComponent(found.id)}/intake-keys`, {});
      if (globalsOf(command).json === true) printJson(key);
      else printLine(JSON.stringify(key));
      setExitCode(ExitCode.ok);
    });

  requestCommand(
    credential,
    'reshare',
    're-share the credential to a new set of custodians and/or thresholds (or the same set: a refresh that makes every old share useless)',
    `  qg credential reshare -c release-key -r "carol leaves" --threshold 2 --custodian bob --custodian dave --custodian erin --wait
  qg credential reshare -c prod-db -r "refresh" --group sre:2:alice,bob,carol --group security:1:erin`,
  )
    .option('--threshold <k>', 'flat form: how many custodians must approve', parseCount)
    .option('--custodian <user>', 'flat form: a custodian (username or id), repeated', parseGroup)
    .option('--group <name:k:users>', 'grouped form: one sharing group, repeated, e.g. sre:2:alice,bob,carol', parseGroup)
    .action(async (options: CustodyOptions & { threshold?: number; custodian?: string[]; group?: string[] }, command: Command) => {
      const { api } = await authenticatedClient({ url: globalsOf(command).url });
      const sharing = await sharingOf(api, options);
      setExitCode(await submit(command, { kind: 'credential.reshare', params: { sharing } }, options));
    });

  requestCommand(
    credential,
    'rotate',
    'rotate the credential: a new secret (sealed here to a one-time intake key, or generated inside the gateway for signing keys) and/or a new config',
    `  qg credential rotate -c api-token -r "token leaked" --secret-file new-token.txt --wait
  qg credential rotate -c release-key -r "yearly rotation" --generate ES256 --wait
  qg credential rotate -c api-token -r "new API host" --config-file config.json`,
  )
    .option('--secret-file <path>', 'the new secret ("-": stdin)')
    .addOption(new Option('--generate <alg>', 'signing keys: a new key pair made inside the gateway').choices(['ES256', 'EdDSA']))
    .option('--config-file <path>', 'the new config, JSON (replaces the whole config)')
    .action(async (options: CustodyOptions & { secretFile?: string; generate?: string; configFile?: string }, command: Command) => {
      if (options.secretFile !== undefined && options.generate !== undefined) throw usageError('--secret-file or --generate, not both');
      const { api } = await authenticatedClient({ url: globalsOf(command).url });
      const found = await credentialOf(api, options.credential);
      const params: Record<string, unknown> = {};
      if (options.generate !== undefined) params['generate'] = { alg: options.generate };
      const configText = await readInput(options.configFile, '--config-file');
      if (configText !== undefined) {
        try {
          params['config'] = JSON.parse(configText.toString('utf8')) as unknown;
        } catch {
          throw usageError('--config-file is not JSON');
        }
      }
      let secret = await readInput(options.secretFile, '--secret-file');
      if (secret === undefined && options.generate === undefined && configText === undefined) {
        if (!stdinIsPiped()) throw usageError('give --secret-file, --generate or --config-file (or the new secret on stdin)');
        secret = await readStdin('the new secret');
      }
      if (secret !== undefined) {
        if (secret.length === 0) throw usageError('the new secret is empty');
        params['secret'] = await sealToIntakeKey(api, found, secret);
      }
      setExitCode(await submit(command, { kind: 'credential.rotate', params }, options));
    });
}
