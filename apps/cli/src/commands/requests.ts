import { Option, type Command } from 'commander';
import { REQUEST_STATUSES, type CredentialView, type RequestView } from '../api-types.js';
import { authenticatedClient } from '../config.js';
import { ExitCode } from '../exit-codes.js';
import { globalsOf, note, printJson, printLine } from '../output.js';
import { safeText, shortId, table, timeLeft } from '../render.js';
import { checkDigest, renderRequest } from '../review.js';
import { KEY_FILE_OPTION_HELP } from './keys.js';
import { addWaitOptions, follow, lazyKeys, parseWholeNumber } from './request.js';

function path(id: string, suffix = ''): string {
  return `/api/v1/requests/${encodeURIComponent(id)}${suffix}`;
}

export function registerRequestsCommands(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('requests')
    .description('list the requests you may see (newest first)')
    .addOption(new Option('--status <status>', 'only requests in this state').choices(REQUEST_STATUSES))
    .option('--approvable', 'only requests waiting for your decision')
    .option('--limit <n>', 'at most this many (1-500)', parseWholeNumber)
    .option('--cursor <cursor>', 'the next page: the nextCursor a previous listing printed')
    .addHelpText(
      'after',
      `
Examples:
  qg requests --approvable
  qg requests --status pending --json | jq -r '.requests[].id'`,
    )
    .action(async (options: { status?: string; approvable?: boolean; limit?: number; cursor?: string }, command: Command) => {
      const globals = globalsOf(command);
      const { api } = await authenticatedClient({ url: globals.url });
      const query = new URLSearchParams();
      if (options.status !== undefined) query.set('status', options.status);
      if (options.approvable === true) query.set('approvable', 'true');
      if (options.limit !== undefined) query.set('limit', String(options.limit));
      if (options.cursor !== undefined) query.set('cursor', options.cursor);
      const { requests, nextCursor } = await api.get<{ requests: RequestView[]; nextCursor?: string | null }>(`/api/v1/requests${query.toString() !== '' ? `?${query.toString()}` : ''}`);
      if (globals.json === true) {
        printJson({ requests, nextCursor: nextCursor ?? null });
        return;
      }
      if (typeof nextCursor === 'string') note(`more: qg requests --cursor ${nextCursor} (with the same filters)`);
      if (requests.length === 0) {
        printLine('no requests');
        return;
      }
      const credentials = new Map<string, string>();
      try {
        const list = await api.get<{ credentials: CredentialView[] }>('/api/v1/credentials');
        for (const c of list.credentials) credentials.set(c.id, safeText(c.name, true));
      } catch {
        // ids then
      }
      const rows = [['ID', 'STATUS', 'OPERATION', 'CREDENTIAL', 'APPROVALS', 'EXPIRES', 'REASON']];
      for (const r of requests) {
        const reason = safeText(r.reason, true);
        rows.push([
          r.id,
          r.status,
          safeText(r.operation.kind, true),
          credentials.get(r.credential.id) ?? shortId(r.credential.id),
          `${r.approvalsReceived}/${r.approvalsRequired}`,
          r.status === 'pending' ? timeLeft(r.expiresAt).replace('expires in ', 'in ') : '-',
          reason.length > 60 ? `${reason.slice(0, 59)}…` : reason,
        ]);
      }
      printLine(table(rows));
    });

  program
    .command('show')
    .description('show a request: the signed operation, the approvals, and the digest recomputed here (MISMATCH is loud, exit 1)')
    .argument('<id>', 'the request id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const globals = globalsOf(command);
      const { api } = await authenticatedClient({ url: globals.url });
      const view = await api.get<RequestView>(path(id));
      const check = await checkDigest(view, id);
      if (globals.json === true) {
        printJson({ ...view, digestCheck: { recomputed: check.recomputed ?? null, matches: check.matches, problem: check.problem ?? null, divergentFields: check.divergentFields } });
      } else {
        printLine(await renderRequest(api, view, check));
        if (view.result !== undefined) printLine(`result      ${safeText(JSON.stringify(view.result, null, 2)).replace(/\n/g, '\n            ')}`);
        // Anyone but the requester gets only the result's hash (spec §4 "Results"): enough to check a copy the requester shares.
        if (view.resultSha256 !== undefined) printLine(`result hash sha256:${view.resultSha256} (the result itself goes only to the requester)`);
      }
      if (!check.matches) {
        process.stderr.write(`qg: DIGEST MISMATCH for request ${id}: ${check.problem ?? ''}\n`);
        setExitCode(ExitCode.failed);
      }
    });

  addWaitOptions(
    program
      .command('wait')
      .description('wait for a submitted request to end; prints its result like qg request … --wait')
      .argument('<id>', 'the request id')
      .option('--key-file <path>', `for reveal: ${KEY_FILE_OPTION_HELP}`)
      .addHelpText(
        'after',
        `
Examples:
  id=$(qg request sign -c release-key -r "release v1.2.3" --payload-file SHA256SUMS)
  qg wait "$id" --timeout 3600 > SHA256SUMS.sig`,
      ),
    false,
  ).action(async (id: string, options: { timeout?: number; cancelOnTimeout?: boolean; quiet?: boolean; keyFile?: string }, command: Command) => {
    const globals = globalsOf(command);
    const { api } = await authenticatedClient({ url: globals.url });
    setExitCode(await follow(api, id, { ...options, json: globals.json === true }, lazyKeys(options.keyFile)));
  });

  program
    .command('cancel')
    .description('cancel a pending request (yours, or any as an admin)')
    .argument('<id>', 'the request id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const globals = globalsOf(command);
      const { api } = await authenticatedClient({ url: globals.url });
      const view = await api.post<RequestView>(path(id, '/cancel'));
      if (globals.json === true) printJson(view);
      else printLine(`request ${view.id} is ${view.status}`);
    });
}
