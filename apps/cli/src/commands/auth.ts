import type { Command } from 'commander';
import { ApiClient } from '../api-client.js';
import type { LoginResponse, MeView } from '../api-types.js';
import { authenticatedClient, configPath, loadConfig, resolveConnection, saveConfig } from '../config.js';
import { CliError, ExitCode, usageError } from '../exit-codes.js';
import { defaultKeyFilePath, peekKeyFile } from '../key-file.js';
import { globalsOf, note, printJson, printLine } from '../output.js';
import { promptHidden, promptLine, readStdin } from '../prompt.js';
import { safeText } from '../render.js';

/** The gateway's minimum (users.dto.ts); checked here too so a short password is refused before any request. */
const MIN_PASSWORD_LENGTH = 12;

export const PASSWORD_CHANGE_HINT = 'your password was chosen by an admin: change it first with qg passwd (until then only qg whoami, qg passwd and qg logout work)';

/** Logs in and caches the session for this gateway URL (mode 0600); the new default URL. */
async function logInAndCache(url: string, username: string, password: string): Promise<{ baseUrl: string; me: MeView; expiresAt: string; path: string }> {
  const anonymous = new ApiClient(url, undefined);
  const login = await anonymous.post<LoginResponse>('/api/v1/auth/login', { username, password });
  if (login.accessToken === undefined) throw new CliError('the gateway answered the login without a token', ExitCode.failed);
  const me = await new ApiClient(url, login.accessToken).get<MeView>('/api/v1/me');
  const expiresAt = new Date(Date.now() + login.expiresIn * 1000).toISOString();
  const path = configPath();
  const config = await loadConfig(path);
  config.sessions[anonymous.baseUrl] = { token: login.accessToken, username: me.username, expiresAt };
  config.defaultUrl = anonymous.baseUrl;
  await saveConfig(config, path);
  return { baseUrl: anonymous.baseUrl, me, expiresAt, path };
}

/** `--password-stdin`: the current password on the first line, the new one on the second. */
async function passwordsFromStdin(): Promise<{ currentPassword: string; newPassword: string }> {
  const lines = (await readStdin('--password-stdin')).toString('utf8').split(/\r?\n/);
  const [currentPassword = '', newPassword = ''] = lines;
  if (currentPassword === '' || newPassword === '' || lines.slice(2).some((line) => line !== '')) {
    throw usageError('--password-stdin: give the current password on the first line and the new one on the second');
  }
  return { currentPassword, newPassword };
}

async function passwordsFromTerminal(username: string): Promise<{ currentPassword: string; newPassword: string }> {
  const hint = 'use --password-stdin';
  const currentPassword = await promptHidden(`Current password for ${username}: `, hint);
  const newPassword = await promptHidden('New password: ', hint);
  if ((await promptHidden('New password again: ', hint)) !== newPassword) throw usageError('the new passwords do not match');
  return { currentPassword, newPassword };
}

interface LoginOptions {
  username?: string;
  passwordStdin?: boolean;
}

export function registerAuthCommands(program: Command): void {
  program
    .command('login')
    .description('log in with a username and password; the access token is cached (mode 0600) for this gateway URL')
    .argument('[username]', 'your username (asked for on a terminal when left out)')
    .option('-u, --username <name>', 'your username')
    .option('--password-stdin', 'read the password from stdin instead of asking on the terminal')
    .addHelpText(
      'after',
      `
Examples:
  qg login --url https://qg.example.com alice
  printf '%s' "$QG_PASSWORD" | qg login --url https://qg.example.com alice --password-stdin`,
    )
    .action(async (positional: string | undefined, options: LoginOptions, command: Command) => {
      const globals = globalsOf(command);
      const connection = await resolveConnection({ url: globals.url });
      let username = options.username ?? positional;
      if (username === undefined) username = await promptLine('Username: ', 'pass the username as an argument');
      if (username === '') throw usageError('the username is empty');
      const password =
        options.passwordStdin === true
          ? (await readStdin('--password-stdin')).toString('utf8').replace(/\r?\n$/, '')
          : await promptHidden(`Password for ${username} on ${connection.url}: `, 'use --password-stdin');
      if (password === '') throw usageError('the password is empty');
      const { baseUrl, me, expiresAt, path } = await logInAndCache(connection.url, username, password);
      if (globals.json === true) {
        printJson({ url: baseUrl, username: me.username, id: me.id, roles: me.roles, expiresAt, mustChangePassword: me.mustChangePassword, configFile: path });
        return;
      }
      printLine(`logged in to ${baseUrl} as ${safeText(me.username, true)} (${me.roles.join(', ')}); session until ${expiresAt}`);
      if (me.mustChangePassword) note(PASSWORD_CHANGE_HINT);
      else if (me.keys === null && me.roles.includes('operator')) note('you have no enrolled keys yet: run qg keygen, then qg enrol');
    });

  program
    .command('passwd')
    .description('change your password; every session of yours ends, and qg logs in again with the new one')
    .option('--password-stdin', 'read the current password and the new one from stdin, one per line, instead of asking on the terminal')
    .addHelpText(
      'after',
      `
A password an admin chose (a new account, a reset) must be changed before anything
else works: until then the gateway answers 403 PASSWORD_CHANGE_REQUIRED.

Examples:
  qg passwd
  printf '%s\n%s\n' "$OLD" "$NEW" | qg passwd --password-stdin`,
    )
    .action(async (options: { passwordStdin?: boolean }, command: Command) => {
      const globals = globalsOf(command);
      const { api, connection } = await authenticatedClient({ url: globals.url });
      const me = await api.get<MeView>('/api/v1/me');
      if (me.kind !== 'user' || me.signIn !== 'password') {
        throw usageError(me.kind === 'user' ? 'you sign in through single sign-on: your password is kept by your identity provider' : 'a service account has no password');
      }
      const { currentPassword, newPassword } = options.passwordStdin === true ? await passwordsFromStdin() : await passwordsFromTerminal(me.username);
      if (newPassword.length < MIN_PASSWORD_LENGTH) throw usageError(`the new password must be at least ${MIN_PASSWORD_LENGTH} characters`);
      if (newPassword === currentPassword) throw usageError('the new password must differ from the current one');
      await api.put('/api/v1/me/password', { currentPassword, newPassword });
      // The change ended every session, this one too: a cached session is replaced by a new one.
      const relogged = connection.tokenSource === 'login' ? await logInAndCache(connection.url, me.username, newPassword) : undefined;
      if (globals.json === true) {
        printJson({ url: connection.url, username: me.username, changed: true, loggedIn: relogged !== undefined, expiresAt: relogged?.expiresAt ?? null });
        return;
      }
      printLine(`password changed for ${safeText(me.username, true)}; every other session of yours has ended`);
      if (relogged === undefined) note('the token you used has ended too: log in again (qg login) with the new password');
    });

  program
    .command('logout')
    .description('end your sessions on this gateway (every device: the server revokes them) and forget the cached token')
    .action(async (_options: unknown, command: Command) => {
      const globals = globalsOf(command);
      const connection = await resolveConnection({ url: globals.url });
      const path = configPath();
      const config = await loadConfig(path);
      const session = config.sessions[connection.url];
      const had = session !== undefined;
      // Best effort: an expired or already revoked token is forgotten all the same.
      if (session !== undefined) await new ApiClient(connection.url, session.token).post('/api/v1/auth/logout').catch(() => undefined);
      delete config.sessions[connection.url];
      await saveConfig(config, path);
      if (globals.json === true) printJson({ url: connection.url, loggedOut: had });
      else printLine(had ? `logged out of ${connection.url}` : `no session for ${connection.url}`);
    });

  program
    .command('whoami')
    .description('who the gateway thinks you are, and whether your key file matches your enrolled keys')
    .action(async (_options: unknown, command: Command) => {
      const globals = globalsOf(command);
      const { api, connection } = await authenticatedClient({ url: globals.url });
      const me = await api.get<MeView>('/api/v1/me');
      const local = me.kind === 'user' ? await peekKeyFile(defaultKeyFilePath()) : undefined;
      const keyFileMatches = local !== undefined && me.keys !== null ? local.signingThumbprint === me.keys.signingThumbprint && local.encryptionThumbprint === me.keys.encryptionThumbprint : undefined;
      if (globals.json === true) {
        printJson({ url: connection.url, tokenSource: connection.tokenSource, ...me, keyFile: local === undefined ? null : { path: defaultKeyFilePath(), ...local, matchesEnrolled: keyFileMatches ?? null } });
        return;
      }
      printLine(`${safeText(me.username, true)} (${me.kind === 'service_account' ? 'service account' : 'user'} ${me.id}) on ${connection.url}`);
      printLine(`roles:     ${me.roles.join(', ') || '(none)'}`);
      if (me.groups.length > 0) printLine(`groups:    ${me.groups.map((g) => safeText(g, true)).join(', ')}`);
      if (me.kind === 'user') {
        printLine(`keys:      ${me.keys === null ? 'not enrolled' : `signing ${me.keys.signingThumbprint}, encryption ${me.keys.encryptionThumbprint}`}`);
        printLine(`key file:  ${local === undefined ? `none at ${defaultKeyFilePath()}` : `${defaultKeyFilePath()}${keyFileMatches === false ? ' (DOES NOT MATCH the enrolled keys)' : keyFileMatches === true ? ' (matches)' : ''}`}`);
      }
    });
}
