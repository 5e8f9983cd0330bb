import { domainToASCII } from 'node:url';
import { editDistance, impersonation, lookalikeOf, normalizeName, skeleton } from '../../server/protection/impersonation';

const DOMAINS = ['contoso.com', 'alpha.test'];
const PEOPLE = [
  { displayName: 'Megan Bowen', address: 'megan@contoso.com' },
  { displayName: 'Álex Wilber', address: 'alex@contoso.com' },
];

describe('look-alike domains', () => {
  test('confusable characters and small edits imitate a tenant domain', () => {
    expect(lookalikeOf('cont0so.com', DOMAINS)).toBe('contoso.com');
    expect(lookalikeOf('соntoso.com', DOMAINS)).toBe('contoso.com'); // Cyrillic с and о
    expect(lookalikeOf(domainToASCII('соntoso.com'), DOMAINS)).toBe('contoso.com'); // the same, as punycode on the wire
    expect(skeleton('rnicrosoft.com')).toBe(skeleton('microsoft.com'));
    expect(lookalikeOf('contosso.com', DOMAINS)).toBe('contoso.com');
    expect(lookalikeOf('cnotoso.com', DOMAINS)).toBe('contoso.com'); // a transposition
    expect(lookalikeOf('c0ntos0.com', DOMAINS)).toBe('contoso.com');
  });

  test('the tenant’s own domains and their subdomains, and unrelated domains, are not look-alikes', () => {
    expect(lookalikeOf('contoso.com', DOMAINS)).toBeNull();
    expect(lookalikeOf('mail.contoso.com', DOMAINS)).toBeNull();
    expect(lookalikeOf('fabrikam.com', DOMAINS)).toBeNull();
    expect(lookalikeOf('example.org', DOMAINS)).toBeNull();
  });

  test('edit distance counts an adjacent swap as one edit', () => {
    expect(editDistance('abcd', 'abdc')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('display-name impersonation', () => {
  test('a protected person’s name from an external address', () => {
    expect(impersonation({ displayName: 'megan  BOWEN', address: 'ceo.office@gmail.test' }, PEOPLE, DOMAINS)).toEqual({
      kind: 'displayName',
      seen: 'megan  BOWEN',
      imitates: 'megan@contoso.com',
    });
    expect(normalizeName('Álex Wilber')).toBe(normalizeName('alex wilber'));
    expect(impersonation({ displayName: 'Alex Wilber', address: 'x@outside.test' }, PEOPLE, DOMAINS)?.kind).toBe('displayName');
  });

  test('the same name from the tenant’s own domain, or another name, is not impersonation', () => {
    expect(impersonation({ displayName: 'Megan Bowen', address: 'megan@contoso.com' }, PEOPLE, DOMAINS)).toBeNull();
    expect(impersonation({ displayName: 'Nestor Wilke', address: 'nestor@outside.test' }, PEOPLE, DOMAINS)).toBeNull();
    expect(impersonation(null, PEOPLE, DOMAINS)).toBeNull();
  });

  test('a look-alike From domain is impersonation even with an unknown name', () => {
    expect(impersonation({ displayName: 'Billing', address: 'billing@cont0so.com' }, PEOPLE, DOMAINS)).toEqual({
      kind: 'lookalikeDomain',
      seen: 'cont0so.com',
      imitates: 'contoso.com',
    });
  });
});
