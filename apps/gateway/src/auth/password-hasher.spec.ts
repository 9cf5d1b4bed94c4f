import { readFileSync } from 'node:fs';
import { argon2idHash, argon2idVerify, passwordHasherPid } from './password-hasher.js';

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
    // Only what Node sets up for the IPC channel.
    const environment = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
    expect(environment.every((v) => v.startsWith('NODE_CHANNEL_'))).toBe(true);
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
