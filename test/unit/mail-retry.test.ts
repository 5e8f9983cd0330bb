import { DEFAULT_RETRY, retryDelay } from '../../server/mail/delivery';

describe('delivery backoff', () => {
  it('starts at minutes, doubles, and levels off at hours', () => {
    const delays = Array.from({ length: 10 }, (_, i) => retryDelay(DEFAULT_RETRY, i + 1) / 60_000);
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 240, 240, 240, 240]);
    expect(DEFAULT_RETRY.maxAgeMs).toBe(4 * 24 * 3600_000);
  });
});
