import { classifyClient, type ClientFacts, type ClientKind } from '../../addin/office/client';

const HOSTS = ['Outlook', 'newOutlookWindows', 'OutlookWebApp', 'OutlookIOS', 'OutlookAndroid', 'SomeFutureOutlook', null] as const;
const PLATFORMS = ['PC', 'Mac', 'OfficeOnline', 'iOS', 'Android', 'Universal', null] as const;

type Row = Record<(typeof PLATFORMS)[number] & string, ClientKind> & { none: ClientKind };
const all = (kind: ClientKind): Row => ({ PC: kind, Mac: kind, OfficeOnline: kind, iOS: kind, Android: kind, Universal: kind, none: kind });

/** hostName × platform → kind, written out by hand (what the documentation says each pair means). */
const EXPECTED: Record<string, Row> = {
  // "Outlook" is classic Outlook on Windows (PC) and Outlook on Mac; with any other platform it is a contradiction.
  Outlook: { PC: 'classicWindows', Mac: 'mac', OfficeOnline: 'unknown', iOS: 'unknown', Android: 'unknown', Universal: 'unknown', none: 'unknown' },
  newOutlookWindows: all('newOutlookWindows'),
  OutlookWebApp: all('web'),
  OutlookIOS: all('mobile'),
  OutlookAndroid: all('mobile'),
  // No or an unfamiliar host name: only a phone platform is telling.
  SomeFutureOutlook: { PC: 'unknown', Mac: 'unknown', OfficeOnline: 'unknown', iOS: 'mobile', Android: 'mobile', Universal: 'unknown', none: 'unknown' },
  none: { PC: 'unknown', Mac: 'unknown', OfficeOnline: 'unknown', iOS: 'mobile', Android: 'mobile', Universal: 'unknown', none: 'unknown' },
};

const facts = (hostName: string | null, platform: string | null, accountType: string | null = 'office365'): ClientFacts => ({
  hostName,
  platform,
  accountType,
  hostVersion: '16.0.1',
});

describe('Outlook client classification', () => {
  const combos = HOSTS.flatMap((h) => PLATFORMS.map((p) => [h, p] as const));

  it.each(combos)('hostName %p on platform %p', (hostName, platform) => {
    const expected = EXPECTED[hostName ?? 'none'][platform ?? 'none'];
    const client = classifyClient(facts(hostName, platform));
    expect(client.kind).toBe(expected);
    // What each kind may claim about cached mode and continuity.
    switch (client.kind) {
      case 'classicWindows':
        expect(client).toMatchObject({ cachedMode: 'unknown', canEnterContinuityMode: 'unknown', askForCachedModeConfirmation: true });
        break;
      case 'mac':
        expect(client).toMatchObject({ cachedMode: 'always', canEnterContinuityMode: true, askForCachedModeConfirmation: false });
        break;
      case 'newOutlookWindows':
      case 'web':
      case 'mobile':
        expect(client).toMatchObject({ cachedMode: 'notApplicable', canEnterContinuityMode: false, askForCachedModeConfirmation: false });
        break;
      case 'unknown':
        expect(client).toMatchObject({ cachedMode: 'unknown', canEnterContinuityMode: 'unknown', askForCachedModeConfirmation: false });
        break;
    }
  });

  it('covers every host/platform pair', () => {
    expect(combos).toHaveLength(HOSTS.length * PLATFORMS.length);
  });

  describe('classic Outlook for Windows', () => {
    it('stays unknown until the user answers, then reports the answer', () => {
      expect(classifyClient(facts('Outlook', 'PC')).cachedMode).toBe('unknown');
      expect(classifyClient(facts('Outlook', 'PC'), 'confirmed')).toMatchObject({ cachedMode: 'confirmed', canEnterContinuityMode: true });
      expect(classifyClient(facts('Outlook', 'PC'), 'notConfirmed')).toMatchObject({ cachedMode: 'notConfirmed', canEnterContinuityMode: false });
    });

    it.each(['enterprise', 'office365'])('an Exchange mailbox (%s) can use Cached Exchange Mode', (accountType) => {
      expect(classifyClient(facts('Outlook', 'PC', accountType)).askForCachedModeConfirmation).toBe(true);
    });

    it('an unreported account type (Mailbox < 1.6, volume-licensed Outlook 2016) is treated as possibly Exchange', () => {
      expect(classifyClient(facts('Outlook', 'PC', null))).toMatchObject({ cachedMode: 'unknown', askForCachedModeConfirmation: true });
    });

    it.each(['outlookCom', 'gmail'])('a %s account has no Cached Exchange Mode: not applicable, nothing to confirm', (accountType) => {
      expect(classifyClient(facts('Outlook', 'PC', accountType), 'confirmed')).toMatchObject({
        kind: 'classicWindows',
        cachedMode: 'notApplicable',
        canEnterContinuityMode: false,
        askForCachedModeConfirmation: false,
      });
    });
  });

  it('an answer about cached mode never changes what other clients report', () => {
    expect(classifyClient(facts('OutlookWebApp', 'OfficeOnline'), 'confirmed').cachedMode).toBe('notApplicable');
    expect(classifyClient(facts('Outlook', 'Mac'), 'notConfirmed').cachedMode).toBe('always');
    expect(classifyClient(facts(null, null), 'confirmed').cachedMode).toBe('unknown');
  });

  it('names each client for people', () => {
    expect(classifyClient(facts('newOutlookWindows', 'OfficeOnline')).label).toBe('New Outlook for Windows');
    expect(classifyClient(facts('Outlook', 'PC')).label).toBe('Classic Outlook for Windows');
  });
});
