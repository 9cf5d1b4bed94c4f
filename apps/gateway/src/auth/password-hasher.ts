import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The argon2id hashes run in a child process at the lowest CPU priority (nice 19). A
 * hash is built to cost CPU and memory (64 MiB, four lanes on four threads), and a
 * password spray makes many: in this process they shared the cores, and libuv's
 * threads, with the approval path's own cryptography and event loop. At nice 19 the
 * scheduler gives the hashes what the gateway leaves idle: on an idle machine a login
 * takes as long as before; under a spray, logins slow down and approvals do not
 * (issue 15, docs/adr/0024). The child holds no secret of the gateway's: it gets no
 * environment (Node adds only its IPC channel's), and of each call only the password
 * and hash, over that channel.
 *
 * Where Linux lets it (util-linux's `chrt` and `taskset`), the child also runs under
 * SCHED_IDLE, so the scheduler counts its cores as free when the gateway or the
 * database wakes, and only on the last half of the CPUs this process may use: a
 * spray's memory-hard hashes (64 MiB each) then never fill every core and cache the
 * approval path needs (docs/adr/0025). A login on an idle two-core machine takes
 * about 40 ms longer.
 */
const ARGON2 = createRequire(import.meta.url).resolve('argon2');

const CHILD_PROGRAM = `
require('node:os').setPriority(19);
const argon2 = require(${JSON.stringify(ARGON2)});
process.on('message', async ({ id, op, password, hash }) => {
  try {
    const value = op === 'hash' ? await argon2.hash(password, { type: argon2.argon2id }) : await argon2.verify(hash, password).catch(() => false);
    process.send({ id, value });
  } catch (error) {
    process.send({ id, error: String((error && error.message) || error) });
  }
});
process.on('disconnect', () => process.exit(0));
`;

type Call = { op: 'hash'; password: string } | { op: 'verify'; password: string; hash: string };
interface Waiting {
  /** The child the call went to: only its exit fails the call. */
  by: ChildProcess;
  resolve: (value: string | boolean) => void;
  reject: (error: Error) => void;
}

/**
 * The CPUs the hasher may use, as a `taskset -c` list: the last half (at least one) of
 * `allowed` (a Cpus_allowed_list such as "0-3,8"), or undefined when there is only one.
 */
export function hasherCpuList(allowed: string): string | undefined {
  const cpus = allowed
    .trim()
    .split(',')
    .flatMap((range) => {
      const [from, to = from] = range.split('-').map(Number);
      return from === undefined || !Number.isInteger(from) || !Number.isInteger(to) ? [] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
    });
  if (cpus.length < 2) return undefined;
  return cpus.slice(cpus.length - Math.floor(cpus.length / 2)).join(',');
}

function tool(name: string): string | undefined {
  return ['/usr/bin', '/bin'].map((dir) => `${dir}/${name}`).find((path) => existsSync(path));
}

/** The hasher's command line: Node, behind `chrt --idle` and `taskset` when both are there and work here. */
async function hasherCommand(): Promise<string[]> {
  const node = [process.execPath, '-e', CHILD_PROGRAM];
  const [chrt, taskset] = [tool('chrt'), tool('taskset')];
  let allowed: string | undefined;
  try {
    allowed = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  } catch {
    allowed = undefined;
  }
  const cpus = allowed === undefined ? undefined : hasherCpuList(allowed);
  if (chrt === undefined || taskset === undefined || cpus === undefined) return node;
  const wrapped = [chrt, '--idle', '0', taskset, '-c', cpus];
  // A container may forbid either call: try once, and go without rather than fail every login.
  const works = await new Promise<boolean>((resolve) => execFile(wrapped[0]!, [...wrapped.slice(1), process.execPath, '-e', ''], { env: {} }, (error) => resolve(error === null)));
  return works ? [...wrapped, ...node] : node;
}

let command: Promise<string[]> | undefined;
let child: ChildProcess | undefined;
const waiting = new Map<number, Waiting>();
let nextId = 0;

async function hasher(): Promise<ChildProcess> {
  command ??= hasherCommand();
  const [file, ...args] = await command;
  if (child !== undefined && child.connected) return child;
  const started = spawn(file!, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: {} });
  started.on('message', (message: { id: number; value?: string | boolean; error?: string }) => {
    const call = waiting.get(message.id);
    if (call === undefined) return;
    waiting.delete(message.id);
    if (message.error !== undefined) call.reject(new Error(`password hash failed: ${message.error}`));
    else call.resolve(message.value ?? false);
    idleUnlessWaiting(started);
  });
  started.on('exit', () => {
    if (child === started) child = undefined;
    for (const [id, call] of waiting) {
      if (call.by !== started) continue;
      waiting.delete(id);
      call.reject(new Error('the password hasher exited'));
    }
  });
  started.on('error', () => undefined);
  child = started;
  return started;
}

/** Logins are rare: an idle hasher is let go after this long, and started again at the next one. */
const IDLE_EXIT_MS = 10_000;
let idleTimer: NodeJS.Timeout | undefined;

/** The hasher never keeps the gateway alive on its own, and ends once idle for IDLE_EXIT_MS. */
function idleUnlessWaiting(hasherProcess: ChildProcess): void {
  const channel = hasherProcess.channel as { ref(): void; unref(): void } | undefined;
  clearTimeout(idleTimer);
  if (waiting.size === 0) {
    channel?.unref();
    hasherProcess.unref();
    idleTimer = setTimeout(() => {
      if (waiting.size === 0 && hasherProcess.connected) hasherProcess.disconnect();
    }, IDLE_EXIT_MS).unref();
  } else {
    channel?.ref();
    hasherProcess.ref();
  }
}

async function call(request: Call): Promise<string | boolean> {
  const hasherProcess = await hasher();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { by: hasherProcess, resolve, reject });
    idleUnlessWaiting(hasherProcess);
    hasherProcess.send({ id, ...request }, (error) => {
      if (error === null || !waiting.has(id)) return;
      waiting.delete(id);
      idleUnlessWaiting(hasherProcess);
      reject(error);
    });
  });
}

export async function argon2idHash(password: string): Promise<string> {
  return String(await call({ op: 'hash', password }));
}

/** False for a wrong password or a malformed hash. */
export async function argon2idVerify(hash: string, password: string): Promise<boolean> {
  return (await call({ op: 'verify', password, hash })) === true;
}

/** The hasher's process id while it runs (tests read its priority and environment). */
export function passwordHasherPid(): number | undefined {
  return child?.pid;
}
