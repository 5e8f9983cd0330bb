import { DEMO_DIRECTORY_FILE } from '../../server/config';
import { classifyGroup } from '../../server/directory/classify';
import { DirectoryFileError, parseDirectoryFile, readDirectoryFile } from '../../server/directory/file-provider';

const base = {
  tenant: { id: 'contoso', name: 'Contoso', domains: ['contoso.test'] },
  users: [{ id: 'u-ada', displayName: 'Ada Park', mail: 'ada@contoso.test' }],
  groups: [{ id: 'g-sales', displayName: 'Sales', members: ['u-ada'] }],
};

function problemOf(doc: unknown): string {
  try {
    parseDirectoryFile('dir.json', JSON.stringify(doc));
  } catch (err) {
    if (err instanceof DirectoryFileError) return err.message;
    throw err;
  }
  throw new Error('expected a DirectoryFileError');
}

describe('directory file', () => {
  it('ships a demo company with at least 20 users and every kind of group, some nested', () => {
    const [demo] = readDirectoryFile(DEMO_DIRECTORY_FILE);
    expect(demo.users.length).toBeGreaterThanOrEqual(20);
    const kinds = new Set(demo.groups.map(classifyGroup));
    expect([...kinds].sort()).toEqual(['distributionList', 'dynamic', 'm365', 'mailEnabledSecurity', 'security']);
    const groupIds = new Set(demo.groups.map((g) => g.id));
    expect(demo.groups.some((g) => g.members?.some((m) => groupIds.has(m)))).toBe(true);
  });

  it('accepts one directory or an array of them', () => {
    expect(parseDirectoryFile('f', JSON.stringify(base))).toHaveLength(1);
    const other = { ...base, tenant: { id: 'fabrikam', name: 'Fabrikam', domains: ['fabrikam.test'] } };
    expect(parseDirectoryFile('f', JSON.stringify([base, other]))).toHaveLength(2);
  });

  it('names the file and the problem', () => {
    expect(() => parseDirectoryFile('my-dir.json', '{not json')).toThrow(/my-dir\.json: not valid JSON/);
    expect(problemOf({ ...base, tenant: { ...base.tenant, domains: [] } })).toMatch(/tenant\.domains/);
    expect(problemOf({ ...base, users: [{ id: 'u-x' }] })).toMatch(/users\.0\.displayName/);
    expect(problemOf({ ...base, groups: [{ id: 'g', displayName: 'G', members: ['u-ghost'] }] })).toMatch(/unknown member "u-ghost"/);
    expect(problemOf({ ...base, groups: [{ id: 'u-ada', displayName: 'Dup' }] })).toMatch(/"u-ada" is used more than once/);
    expect(problemOf([base, base])).toMatch(/tenant "contoso" appears twice/);
  });

  it('reports a missing file by name', () => {
    expect(() => readDirectoryFile('/nonexistent/x.json')).toThrow(/\/nonexistent\/x\.json: cannot be read \(ENOENT\)/);
  });
});
