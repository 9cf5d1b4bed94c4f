import { readFileSync } from 'node:fs';
import { argon2idHash, argon2idVerify, hasherCpuList, passwordHasherPid } from './password-hasher.js';

const cpusAllowed = (pid: number | 'self') => /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

describe('the password hasher process', () => {
  it('hashes and verifies argon2id, false for a wrong password or a malformed hash', async () => {
    const hash = await argon2idHash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=65536,p=4,t=3\$/);
    expect(await argon2idVerify(hash, 'correct horse battery staple')).toBe(true);
    expect(await argon2idVerify(hash, 'correct horse battery stapler')).toBe(false);
    expect(await argon2idVerify('not a hash', 'anything')).toBe(false);
  });

  it('runs at the lowest CPU priority, with no environment but what its IPC channel needs (so none of the gateway secrets)', async () => {
    await argon2idHash('warm up');
    const pid = passwordHasherPid();
    expect(pid).toBeGreaterThan(0);
    // /proc/<pid>/stat: the 19th field is the nice value (the command name may hold spaces, so split after ')').
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    expect(Number(fields[16])).toBe(19);
    // On Linux with util-linux (as here and in the image): SCHED_IDLE (policy 5, the 41st field),
    // on the last half of this process's CPUs.
    expect(Number(fields[38])).toBe(5);
    const own = cpusAllowed('self')!;
    expect(cpusAllowed(pid!)).toBe(hasherCpuList(own) ?? own);
    // Only what Node sets up for the IPC channel.
    const environment = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
    expect(environment.every((v) => v.startsWith('NODE_CHANNEL_'))).toBe(true);
  });

  it('takes the last half of the CPUs it may use, at least one, and none to choose from one', () => {
    expect(hasherCpuList('0-1')).toBe('1');
    expect(hasherCpuList('0-3')).toBe('2,3');
    expect(hasherCpuList('0-2')).toBe('2');
    expect(hasherCpuList('0,2-4,8\n')).toBe('4,8');
    expect(hasherCpuList('0')).toBeUndefined();
    expect(hasherCpuList('')).toBeUndefined();
  });

  it('answers calls made at once, each its own', async () => {
    const hashes = await Promise.all(['a-password-1', 'a-password-2', 'a-password-3'].map((p) => argon2idHash(p)));
    expect(await Promise.all(hashes.map((h, i) => argon2idVerify(h, `a-password-${i + 1}`)))).toEqual([true, true, true]);
    expect(await argon2idVerify(hashes[0]!, 'a-password-2')).toBe(false);
  });

  it('starts a new child when the one it had is gone', async () => {
    await argon2idHash('before');
    const first = passwordHasherPid()!;
    const exited = new Promise((resolve) => {
      const poll = setInterval(() => {
        try {
          process.kill(first, 0);
        } catch {
          clearInterval(poll);
          resolve(undefined);
        }
      }, 20);
    });
    process.kill(first, 'SIGKILL');
    await exited;
    const hash = await argon2idHash('after');
    expect(passwordHasherPid()).not.toBe(first);
    expect(await argon2idVerify(hash, 'after')).toBe(true);
  });
});
