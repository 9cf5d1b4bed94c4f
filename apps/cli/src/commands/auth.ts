import type { Command } from 'commander';
import { ApiClient } from '../api-client.js';
import type { LoginResponse, MeView } from '../api-types.js';
import { authenticatedClient, configPath, loadConfig, resolveConnection, saveConfig } from '../config.js';
import { CliError, ExitCode, usageError } from '../exit-codes.js';
import { defaultKeyFilePath, peekKeyFile } from '../key-file.js';
import { globalsOf, note, printJson, printLine } from '../output.js';
import { promptHidden, promptLine, readStdin } from '../prompt.js';
import { safeText } from '../render.js';

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
      const anonymous = new ApiClient(connection.url, undefined);
      const login = await anonymous.post<LoginResponse>('/api/v1/auth/login', { username, password });
      if (login.accessToken === undefined) throw new CliError('the gateway answered the login without a token', ExitCode.failed);
      const me = await new ApiClient(connection.url, login.accessToken).get<MeView>('/api/v1/me');
      const expiresAt = new Date(Date.now() + login.expiresIn * 1000).toISOString();
      const path = configPath();
      const config = await loadConfig(path);
      config.sessions[anonymous.baseUrl] = { token: login.accessToken, username: me.username, expiresAt };
      config.defaultUrl = anonymous.baseUrl;
      await saveConfig(config, path);
      if (globals.json === true) {
        printJson({ url: anonymous.baseUrl, username: me.username, id: me.id, roles: me.roles, expiresAt, configFile: path });
        return;
      }
      printLine(`logged in to ${anonymous.baseUrl} as ${safeText(me.username, true)} (${me.roles.join(', ')}); session until ${expiresAt}`);
      if (me.keys === null && me.roles.includes('operator')) note('you have no enrolled keys yet: run qg keygen, then qg enrol');
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
