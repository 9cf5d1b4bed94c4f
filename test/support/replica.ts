import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { ADMIN_PASSWORD } from './test-gateway.js';

/** The compiled gateway, from the repository root (tests and the bench run there). */
const MAIN = resolve(process.cwd(), 'dist/apps/gateway/src/main.js');

export interface Replica {
  process: ChildProcess;
  url: string;
  output: () => string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

/** A real gateway process (the compiled one `npm start` runs) on a free loopback port. */
export async function startReplica(env: Record<string, string>, nodeArgs: string[] = []): Promise<Replica> {
  const child = spawn(process.execPath, [...nodeArgs, MAIN], {
    env: { PATH: process.env['PATH'] ?? '', QG_PORT: '0', QG_HOST: '127.0.0.1', QG_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD, QG_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica did not start in time:\n${output}`)), 60000);
    const check = () => {
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`replica exited with ${code}:\n${output}`));
    });
  });
  return { process: child, url, output: () => output, exited };
}
