/**
 * Lifeboat's own ARC seal told from look-alikes (readiness, server/readiness/arc-seal.ts): a message
 * sealed by mailauth with one key, then by a second sealer, read back as Graph lists its headers
 * (unfolded); the first seal verifies with its key, not with another key, not after its set was changed,
 * and a set with a header missing is refused with the reason.
 */
import { generateKeyPairSync } from 'node:crypto';
import { authenticate } from 'mailauth';
import { publicKeyOfRecord, verifyArcSeal, type HeaderField } from '../../server/readiness/arc-seal';

const notFound = async () => {
  throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
};

function rsaKey() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), record: `v=DKIM1; k=rsa; p=${p}` };
}

/** Seals as `domain`; `published` are the key records the sealer's DNS answers (else it finds none). */
async function seal(raw: string, domain: string, privateKey: string, published: Record<string, string> = {}): Promise<string> {
  const resolver = async (name: string, type: string) => (type === 'TXT' && published[name] ? [[published[name]]] : notFound());
  const res = await authenticate(Buffer.from(raw), {
    ip: '192.0.2.1',
    helo: 'mail.partner.test',
    sender: 'news@partner.test',
    mta: `mx.${domain}`,
    resolver: resolver as never,
    disableBimi: true,
    seal: { signingDomain: domain, selector: 'lifeboat1', privateKey },
  });
  return res.headers + raw;
}

/** The header section as Graph's internetMessageHeaders gives it: unfolded, in order. */
function asGraph(raw: string): HeaderField[] {
  const out: HeaderField[] = [];
  for (const line of raw.split(/\r\n\r\n/)[0]!.split(/\r\n/)) {
    if (/^[ \t]/.test(line)) out[out.length - 1]!.value += ` ${line.trim()}`;
    else out.push({ name: line.slice(0, line.indexOf(':')), value: line.slice(line.indexOf(':') + 1).trim() });
  }
  return out;
}

const lifeboat = rsaKey();
const exchange = rsaKey();
const other = rsaKey();
const message = ['From: News <news@partner.test>', 'To: ann@contoso.example', 'Subject: Probe', 'Message-ID: <p1@partner.test>', '', 'Hello', ''].join('\r\n');

test('the seal verifies with the key that made it, also under a later sealer’s set (cv=pass and cv=fail)', async () => {
  const once = await seal(message, 'contoso.example', lifeboat.privateKey);
  // The next sealer found Lifeboat's key (cv=pass: its seal covers both sets), or did not (cv=fail: its own only).
  for (const [published, cv] of [
    [{ 'lifeboat1._domainkey.contoso.example': lifeboat.record }, 'pass'],
    [{}, 'fail'],
  ] as const) {
    const headers = asGraph(await seal(once, 'microsoft.test', exchange.privateKey, published));
    const seals = headers.filter((h) => h.name === 'ARC-Seal');
    expect(seals.map((h) => /cv=(\w+)/.exec(h.value)?.[1])).toEqual([cv, 'none']);
    expect(verifyArcSeal(headers, 1, publicKeyOfRecord(lifeboat.record)!)).toEqual({ valid: true });
    expect(verifyArcSeal(headers, 2, publicKeyOfRecord(exchange.record)!)).toEqual({ valid: true });
  }
});

test('not with another key, not after its set was changed, not with a set incomplete', async () => {
  const headers = asGraph(await seal(message, 'contoso.example', lifeboat.privateKey));
  expect(verifyArcSeal(headers, 1, publicKeyOfRecord(other.record)!)).toMatchObject({ valid: false, reason: expect.stringMatching(/does not verify/) });

  const changed = headers.map((h) => (h.name === 'ARC-Authentication-Results' ? { ...h, value: h.value.replace('spf=', 'spf=pass x=') } : h));
  expect(verifyArcSeal(changed, 1, publicKeyOfRecord(lifeboat.record)!)).toMatchObject({ valid: false });

  const incomplete = headers.filter((h) => h.name !== 'ARC-Message-Signature');
  expect(verifyArcSeal(incomplete, 1, publicKeyOfRecord(lifeboat.record)!)).toEqual({
    valid: false,
    reason: 'ARC set i=1 is missing a header or has one twice',
  });

  const forged = headers.map((h) => (h.name === 'ARC-Seal' ? { ...h, value: h.value.replace(/b=[^;]*$/, 'b=abc') } : h));
  expect(verifyArcSeal(forged, 1, publicKeyOfRecord(lifeboat.record)!)).toMatchObject({ valid: false });
  expect(publicKeyOfRecord('v=DKIM1; k=rsa; p=not-a-key')).toBeNull();
});
