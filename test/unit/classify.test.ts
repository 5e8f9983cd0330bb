import { classifyGroup } from '../../server/directory/classify';

describe('group classification (the rules the file and Graph providers share)', () => {
  it.each([
    ['Microsoft 365 group', { groupTypes: ['Unified'], mailEnabled: true, securityEnabled: false }, 'm365'],
    ['mail-enabled security group', { groupTypes: [], mailEnabled: true, securityEnabled: true }, 'mailEnabledSecurity'],
    ['security group', { groupTypes: [], mailEnabled: false, securityEnabled: true }, 'security'],
    ['distribution list', { groupTypes: [], mailEnabled: true, securityEnabled: false }, 'distributionList'],
    [
      'dynamic security group',
      { groupTypes: ['DynamicMembership'], mailEnabled: false, securityEnabled: true, membershipRule: 'user.city -eq "Oslo"' },
      'dynamic',
    ],
    [
      'dynamic Microsoft 365 group',
      { groupTypes: ['Unified', 'DynamicMembership'], mailEnabled: true, securityEnabled: false, membershipRule: 'user.department -eq "Sales"' },
      'dynamic',
    ],
    ['rule without the group type', { groupTypes: [], mailEnabled: false, securityEnabled: true, membershipRule: 'user.city -eq "Rome"' }, 'dynamic'],
    ['missing properties', {}, 'security'],
  ])('%s', (_name, traits, kind) => {
    expect(classifyGroup(traits)).toBe(kind);
  });

  it('does not treat an empty membership rule as dynamic', () => {
    expect(classifyGroup({ groupTypes: [], mailEnabled: true, securityEnabled: false, membershipRule: '  ' })).toBe('distributionList');
  });
});
