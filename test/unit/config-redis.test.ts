import { ConfigError, loadConfig } from '../../server/config';

describe('REDIS_URL', () => {
  it('is unset by default: one node, no Redis', () => {
    expect(loadConfig({}).redisUrl).toBeUndefined();
  });

  it('takes a redis:// or rediss:// URL', () => {
    expect(loadConfig({ REDIS_URL: 'redis://redis.internal:6379/0' }).redisUrl).toBe('redis://redis.internal:6379/0');
    expect(loadConfig({ REDIS_URL: 'rediss://user:pw@redis.example:6380' }).redisUrl).toBe('rediss://user:pw@redis.example:6380');
  });

  it('refuses anything else, naming the variable', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://redis' })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_URL: 'http://redis' })).toThrow(/^REDIS_URL: /);
  });
});
