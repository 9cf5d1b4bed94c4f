import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { executorFor } from './index.js';
import { quoteShellArgument, shellCommandLine } from './ssh-params.js';

// Issue 15 item 1 (d): an ssh.exec argv reaches the program argument by argument, whatever
// the arguments hold. Checked with real shells: the quoted line is run by `sh -c`, as sshd
// runs it through the login shell, and the program prints back the argv it received.

const HOSTILE: string[] = [
  'plain',
  'two words',
  '',
  "it's",
  "''",
  '"double"',
  '$(id)',
  '`id`',
  '${HOME}',
  '$HOME',
  'a;b&&c||d|e',
  '>out <in 2>&1',
  'line1\nline2',
  '\r\n\t',
  '-rf',
  '--help',
  '-',
  '*',
  '?[a-z]{x,y}',
  '~root',
  '#comment',
  '!!',
  '\\',
  "\\'",
  "'$(touch /tmp/qg-quote-pwned)'",
  'ünïcødé ✓',
];

const shells = ['/bin/sh', '/bin/dash', '/bin/bash', '/usr/bin/zsh', '/bin/ksh'].filter((shell) => existsSync(shell));

/** What `sh -c LINE` hands to a program: its argv after $0, NUL-separated by printf. */
function argvThroughShell(shell: string, line: string): string[] {
  const out = execFileSync(shell, ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent' } });
  return out.split('\0').slice(0, -1);
}

describe('quoteShellArgument', () => {
  it.each(shells)('round-trips every hostile argument through %s', (shell) => {
    expect(argvThroughShell(shell, HOSTILE.map(quoteShellArgument).join(' '))).toEqual(HOSTILE);
    expect(existsSync('/tmp/qg-quote-pwned')).toBe(false);
  });

  it.each(HOSTILE.map((a) => [JSON.stringify(a), a] as const))('keeps %s one argument', (_name, argument) => {
    expect(argvThroughShell('/bin/sh', `${quoteShellArgument(argument)} ${quoteShellArgument('end')}`)).toEqual([argument, 'end']);
  });

  it('refuses NUL, which no argv can carry', () => {
    expect(() => quoteShellArgument('a\u0000b')).toThrow(TypeError);
  });
});

describe('shellCommandLine and ssh.exec params', () => {
  const executor = executorFor('ssh.exec');

  it('sends a string as given and an argv quoted', () => {
    expect(shellCommandLine('uptime; id')).toBe('uptime; id');
    expect(shellCommandLine(['printf', '%s', "a'b"])).toBe(`'printf' '%s' 'a'\\''b'`);
  });

  it('takes command as a string or as an argv, unchanged', () => {
    expect(executor.validateParams({ command: 'uptime' })).toEqual({ command: 'uptime' });
    expect(executor.validateParams({ command: ['systemctl', 'status', 'nginx'] })).toEqual({ command: ['systemctl', 'status', 'nginx'] });
    expect(executor.validateParams({ command: ['echo', ''] })).toEqual({ command: ['echo', ''] });
  });

  it.each<[string, unknown]>([
    ['an empty argv', []],
    ['an empty program', ['', 'x']],
    ['a non-string argument', ['echo', 1]],
    ['a NUL in an argument', ['echo', 'a\u0000b']],
    ['257 arguments', Array.from({ length: 257 }, () => 'x')],
    ['an argv over 8 KiB once quoted', ['echo', "'".repeat(2100)]],
    ['an object', { program: 'id' }],
  ])('refuses %s (PARAMS_INVALID)', (_name, command) => {
    expect(() => executor.validateParams({ command })).toThrow(expect.objectContaining({ code: 'PARAMS_INVALID' }));
  });
});
