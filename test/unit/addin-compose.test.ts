import {
  composeHtml,
  formatFull,
  formatShort,
  parseMailbox,
  parseMailboxList,
  prefixSubject,
  quoteOriginal,
  replyRecipients,
  textToHtml,
  type OriginalMessage,
} from '../../addin/lib/compose';

const ME = 'ada@contoso.test';
const original: OriginalMessage = {
  from: '"Bob Stone" <bob@fabrikam.example>',
  to: ['Ada Park <ada@contoso.test>', 'carl@contoso.test', '"Dee, Team" <dee@contoso.test>'],
  cc: ['ADA@contoso.test', 'erin@fabrikam.example', 'bob@fabrikam.example'],
  subject: 'Quarterly numbers',
  date: '2026-11-22T13:05:00.000Z',
  html: '<p>Numbers <b>attached</b></p>',
  text: 'Numbers attached',
};

describe('addresses', () => {
  it('reads display-name and bare forms, quoted commas included', () => {
    expect(parseMailbox('Ada Park <ada@contoso.test>')).toEqual({ name: 'Ada Park', address: 'ada@contoso.test' });
    expect(parseMailbox('"Park, Ada" <ada@contoso.test>')).toEqual({ name: 'Park, Ada', address: 'ada@contoso.test' });
    expect(parseMailbox(' ada@contoso.test ')).toEqual({ name: null, address: 'ada@contoso.test' });
    expect(parseMailbox('not an address')).toBeNull();
    expect(parseMailbox('evil@x.test\r\nBcc: all@x.test')).toBeNull();
    expect(parseMailboxList('"Park, Ada" <ada@contoso.test>; bob@fabrikam.example, nonsense')).toEqual({
      mailboxes: [
        { name: 'Park, Ada', address: 'ada@contoso.test' },
        { name: null, address: 'bob@fabrikam.example' },
      ],
      invalid: ['nonsense'],
    });
  });
});

describe('reply recipients', () => {
  it('reply: the sender only', () => {
    expect(replyRecipients(original, 'reply', ME)).toEqual({ to: ['bob@fabrikam.example'], cc: [] });
  });

  it('reply all: sender and To in To, Cc in Cc; never me (any case), nobody twice', () => {
    expect(replyRecipients(original, 'replyAll', ME)).toEqual({
      to: ['bob@fabrikam.example', 'carl@contoso.test', 'dee@contoso.test'],
      cc: ['erin@fabrikam.example'],
    });
  });

  it('answering my own sent message goes to its recipients', () => {
    const mine = { ...original, from: 'Ada Park <ada@contoso.test>', to: ['bob@fabrikam.example'], cc: ['carl@contoso.test'] };
    expect(replyRecipients(mine, 'reply', ME)).toEqual({ to: ['bob@fabrikam.example'], cc: [] });
    expect(replyRecipients(mine, 'replyAll', ME)).toEqual({ to: ['bob@fabrikam.example'], cc: ['carl@contoso.test'] });
  });

  it('forward: nobody', () => {
    expect(replyRecipients(original, 'forward', ME)).toEqual({ to: [], cc: [] });
  });
});

describe('subject prefixes, once', () => {
  it.each([
    ['Quarterly numbers', 'reply', 'Re: Quarterly numbers'],
    ['Re: Quarterly numbers', 'reply', 'Re: Quarterly numbers'],
    ['RE:Quarterly numbers', 'replyAll', 'RE:Quarterly numbers'],
    ['AW: Zahlen', 'reply', 'AW: Zahlen'],
    ['Fw: Quarterly numbers', 'reply', 'Re: Fw: Quarterly numbers'],
    ['Quarterly numbers', 'forward', 'Fw: Quarterly numbers'],
    ['FWD: Quarterly numbers', 'forward', 'FWD: Quarterly numbers'],
    ['Re: Quarterly numbers', 'forward', 'Fw: Re: Quarterly numbers'],
    ['', 'reply', 'Re:'],
    ['Line\r\nbreak', 'reply', 'Re: Line break'],
  ] as const)('%s (%s) → %s', (subject, mode, expected) => {
    expect(prefixSubject(subject, mode)).toBe(expected);
  });
});

describe('quoting', () => {
  it('reply: "On <date in the event zone>, <sender> wrote:" and the original in a blockquote', () => {
    const q = quoteOriginal(original, 'reply', 'Europe/Berlin');
    expect(q).toContain('On Sun 22 Nov 2026, 14:05 CET, Bob Stone &lt;bob@fabrikam.example&gt; wrote:');
    expect(q).toMatch(/<blockquote[^>]*><p>Numbers <b>attached<\/b><\/p><\/blockquote>/);
  });

  it('forward: the forwarded header block, then the original', () => {
    const q = quoteOriginal(original, 'forward', 'UTC');
    expect(q).toContain(
      '---------- Forwarded message ----------<br>From: Bob Stone &lt;bob@fabrikam.example&gt;<br>Date: Sun 22 Nov 2026, 13:05 UTC<br>Subject: Quarterly numbers',
    );
    expect(q).toContain('Cc: ADA@contoso.test, erin@fabrikam.example, bob@fabrikam.example');
    expect(q.endsWith('<p>Numbers <b>attached</b></p></div>')).toBe(true);
  });

  it('a plain-text original is escaped; the user text becomes paragraphs, escaped', () => {
    const q = quoteOriginal({ ...original, html: null, text: '<script>x</script>\nline 2' }, 'reply', 'UTC');
    expect(q).toContain('<p>&lt;script&gt;x&lt;/script&gt;<br>line 2</p>');
    expect(textToHtml('Hi <Bob>,\n\nSee below.\nThanks')).toBe('<p>Hi &lt;Bob&gt;,</p>\n<p>See below.<br>Thanks</p>');
    expect(composeHtml('Thanks', '<div>q</div>')).toBe('<p>Thanks</p>\n<br>\n<div>q</div>');
  });
});

describe('times in the event zone', () => {
  const now = new Date('2026-11-22T20:00:00Z');
  it('lists: time today, day and month this year, with the year before', () => {
    expect(formatShort('2026-11-22T13:05:00Z', 'Europe/London', now)).toBe('13:05');
    // 20:00 UTC is already 23 Nov in Tokyo: "today" is the zone's day.
    expect(formatShort('2026-11-22T23:30:00Z', 'Asia/Tokyo', now)).toBe('08:30');
    expect(formatShort('2026-11-22T13:05:00Z', 'Asia/Tokyo', now)).toBe('22 Nov');
    expect(formatShort('2026-11-22T13:05:00Z', 'America/Los_Angeles', now)).toBe('05:05');
    expect(formatShort('2025-12-31T12:00:00Z', 'UTC', now)).toBe('31 Dec 2025');
  });
  it('full: weekday, date, time and zone; an unknown zone falls back to the local one', () => {
    expect(formatFull('2026-07-01T08:00:00Z', 'America/New_York')).toBe('Wed 1 Jul 2026, 04:00 GMT-4');
    expect(formatFull('2026-07-01T08:00:00Z', 'Not/AZone')).toMatch(/^Wed 1 Jul 2026, \d\d:\d\d/);
  });
});
