import { bannerMessage, headerState, isNewer, parseStatus, type ContinuityStatus } from '../../addin/lib/status';
import { bannerText, MAX_MESSAGE_LENGTH } from '../../addin/office/banners';
import { hhmm } from '../../addin/lib/time';

const status = (seq: number, active: boolean, events: ContinuityStatus['events'] = []): ContinuityStatus => ({
  seq,
  active,
  events,
  at: '2026-11-22T10:00:00Z',
});
const event = { id: 'e1', description: 'Exchange outage', start: '2026-11-22T09:00:00Z', end: null };

describe('continuity status in the pane', () => {
  it('only a newer seq replaces what is shown', () => {
    expect(isNewer(null, status(0, false))).toBe(true);
    expect(isNewer(status(4, true), status(5, false))).toBe(true);
    expect(isNewer(status(5, true), status(5, false))).toBe(false);
    expect(isNewer(status(5, true), status(3, false))).toBe(false);
  });

  it('header: Normal without events, Continuity active, Service restored with an end message', () => {
    expect(headerState(status(1, false))).toEqual({ kind: 'normal' });
    expect(headerState(status(2, true, [{ ...event, startMessage: 'Use Lifeboat' }]))).toMatchObject({ kind: 'active' });
    const ended = { ...event, end: '2026-11-22T11:00:00Z', endMessage: 'Back to normal' };
    expect(headerState(status(3, false, [ended]))).toEqual({ kind: 'restored', events: [ended] });
    // inactive events without an end message are not a "restored" announcement
    expect(headerState(status(4, false, [{ ...event, end: '2026-11-22T11:00:00Z' }]))).toEqual({ kind: 'normal' });
  });

  it('banner text: the start message while active, nothing otherwise', () => {
    expect(bannerMessage(status(2, true, [{ ...event, startMessage: 'Mail goes through Lifeboat' }]))).toBe(
      'Email continuity is active: Mail goes through Lifeboat',
    );
    expect(bannerMessage(status(2, true, [event]))).toBe('Email continuity is active: Exchange outage');
    expect(bannerMessage(status(3, false, [event]))).toBeNull();
  });

  it('banner text fits Outlook’s 150 characters on one line', () => {
    const long = bannerText(`line one\n${'x'.repeat(400)}`);
    expect(long).toHaveLength(MAX_MESSAGE_LENGTH);
    expect(long.startsWith('line one x')).toBe(true);
    expect(long.endsWith('…')).toBe(true);
    expect(bannerText('  short  ')).toBe('short');
  });

  it('parses the contract payload and refuses malformed ones', () => {
    const parsed = parseStatus({ seq: 7, active: true, events: [{ id: 'e', description: 'd', startMessage: 's', start: 'x', end: null }], at: 't' });
    expect(parsed).toEqual({
      seq: 7,
      active: true,
      events: [{ id: 'e', description: 'd', startMessage: 's', endMessage: undefined, start: 'x', end: null }],
      at: 't',
    });
    expect(parseStatus({ seq: '7', active: true, events: [] })).toBeNull();
    expect(parseStatus({ seq: 1, active: true, events: [{ description: 'no id' }] })).toBeNull();
    expect(parseStatus(null)).toBeNull();
  });

  it('formats times as HH:MM', () => {
    const d = new Date(2026, 10, 22, 7, 5);
    expect(hhmm(d)).toBe('07:05');
    expect(hhmm('not a date')).toBe('--:--');
  });
});
