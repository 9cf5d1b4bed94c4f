import { constraintNotes, matchesOperation } from './match-operation.js';
import type { Operation, OperationRule } from './types.js';

// Issue 15 item 1 (d): a constrained ssh.exec command admits no shell line that could do more
// than the glob says, and an argv constraint is an argv constraint.

const ssh = (command: unknown): Operation => ({ kind: 'ssh.exec', params: { command } });
const echo: OperationRule = { kind: 'ssh.exec', constraints: { command: 'echo *' } };
const status: OperationRule = { kind: 'ssh.exec', constraints: { command: ['systemctl', 'status', '*'] } };
const grep: OperationRule = { kind: 'ssh.exec', constraints: { command: ['grep', '**'] } };
const any: OperationRule = { kind: 'ssh.exec' };

describe('matchesOperation for ssh.exec command', () => {
  it.each<[string, OperationRule, Operation, boolean]>([
    ['a plain line under its glob', echo, ssh('echo hello world'), true],
    ...[';', '&', '|', '$', '`', '<', '>', '(', ')', '{', '}', '[', ']', '*', '?', '!', '~', '#', "'", '"', '\\', '\n', '\r'].map(
      (char): [string, OperationRule, Operation, boolean] => [`a line with ${JSON.stringify(char)} under a glob`, echo, ssh(`echo hello${char}id`), false],
    ),
    ['echo then another command', echo, ssh('echo hello; rm -rf /'), false],
    ['command substitution', echo, ssh('echo $(cat /etc/shadow)'), false],
    ['an unconstrained rule admits any line', any, ssh('echo hello; id'), true],
    ['an argv under an argv constraint', status, ssh(['systemctl', 'status', 'nginx']), true],
    ['an argv element with metacharacters: it is one argument', status, ssh(['systemctl', 'status', 'nginx; reboot']), true],
    ['an argv under a string glob', echo, ssh(['echo', 'hello']), false],
    ['a string under an argv constraint (never "any of")', status, ssh('status'), false],
    ['a string matching one argv glob', status, ssh('rm -rf /'), false],
    ['an argv too long for a fixed constraint', status, ssh(['systemctl', 'status', 'nginx', 'extra']), false],
    ['an argv under an open constraint', grep, ssh(['grep', '-r', 'needle', '/var/log']), true],
  ])('%s', (_name, rule, operation, expected) => {
    expect(matchesOperation(rule, operation)).toBe(expected);
  });

  it('says why a constrained rule refused the line', () => {
    expect(constraintNotes(ssh('echo a; id'))).toEqual([expect.stringMatching(/shell metacharacters.*argv array/)]);
    expect(constraintNotes(ssh(['echo', 'a; id']))).toEqual([]);
  });
});
