import { hashPassword, passwordProblem, verifyPassword } from '../../server/auth/password';

describe('cloud passwords', () => {
  it('hashes with scrypt and verifies', async () => {
    const hash = await hashPassword('a long enough secret');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(hash).not.toContain('a long enough secret');
    await expect(verifyPassword('a long enough secret', hash)).resolves.toBe(true);
    await expect(verifyPassword('a long enough secreT', hash)).resolves.toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same password here')).not.toBe(await hashPassword('same password here'));
  });

  it('refuses malformed stored hashes', async () => {
    await expect(verifyPassword('x', 'plain-text')).resolves.toBe(false);
  });

  it('has a password policy', () => {
    expect(passwordProblem('short')).toMatch(/at least 12/);
    expect(passwordProblem('aaaaaaaaaaaaaaaa')).toMatch(/repetitive/);
    expect(passwordProblem('a fine passphrase')).toBeNull();
  });
});
