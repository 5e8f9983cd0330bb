import { ApiError, createApi } from '../../addin/lib/api';

function fakeFetch(respond: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init: init ?? {} });
    return respond(String(input), init ?? {});
  }) as typeof fetch;
  return { calls, fetchFn };
}

const problem = (status: number, body: object) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json' } });

describe('the pane’s REST client', () => {
  it('sends the bearer token and parses the status', async () => {
    const { calls, fetchFn } = fakeFetch(() => Response.json({ seq: 3, active: false, events: [], at: 'now' }));
    const api = createApi({ baseUrl: 'https://lifeboat.test/', getToken: async () => 'tok-1', fetch: fetchFn });
    await expect(api.status()).resolves.toMatchObject({ seq: 3, active: false });
    expect(calls[0].url).toBe('https://lifeboat.test/api/me/status');
    expect((calls[0].init.headers as Record<string, string>).authorization).toBe('Bearer tok-1');
  });

  it('surfaces problem+json detail', async () => {
    const { fetchFn } = fakeFetch(() => problem(429, { title: 'Too Many Requests', status: 429, detail: 'Too many attempts. Try again later.' }));
    const api = createApi({ baseUrl: 'https://lifeboat.test', getToken: async () => null, fetch: fetchFn });
    const err = await api.login('a@b.test', 'x').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toBe('Too many attempts. Try again later.');
    expect(err.status).toBe(429);
  });

  it('says plainly when the server cannot be reached', async () => {
    const { fetchFn } = fakeFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    const api = createApi({ baseUrl: 'https://lifeboat.test', getToken: async () => 't', fetch: fetchFn });
    const err = (await api.status().catch((e) => e)) as ApiError;
    expect(err.unreachable).toBe(true);
    expect(err.message).toMatch(/can't be reached/);
  });

  it('a 401 without a body is an expired sign-in; no token means no request', async () => {
    const { calls, fetchFn } = fakeFetch(() => new Response(null, { status: 401, statusText: 'Unauthorized' }));
    const api = createApi({ baseUrl: 'https://lifeboat.test', getToken: async () => 't', fetch: fetchFn });
    const err = (await api.status().catch((e) => e)) as ApiError;
    expect(err.unauthorized).toBe(true);
    expect(err.message).toMatch(/sign-in has expired/);
    const signedOut = createApi({ baseUrl: 'https://lifeboat.test', getToken: async () => null, fetch: fetchFn });
    await expect(
      signedOut.reportClient({
        kind: 'web',
        hostName: 'OutlookWebApp',
        platform: 'OfficeOnline',
        accountType: 'office365',
        hostVersion: '15',
        cachedMode: 'notApplicable',
      }),
    ).rejects.toMatchObject({ status: 401 });
    expect(calls).toHaveLength(1);
  });

  it('posts the client report as JSON', async () => {
    const { calls, fetchFn } = fakeFetch(() => new Response(null, { status: 204 }));
    const api = createApi({ baseUrl: 'https://lifeboat.test', getToken: async () => 't', fetch: fetchFn });
    const report = { kind: 'mac' as const, hostName: 'Outlook', platform: 'Mac', accountType: 'office365', hostVersion: '16.9', cachedMode: 'always' as const };
    await api.reportClient(report);
    expect(calls[0].init.method).toBe('POST');
    expect(JSON.parse(String(calls[0].init.body))).toEqual(report);
  });

  it('posts the banner receipt (the REST fallback of continuity:seen)', async () => {
    const { calls, fetchFn } = fakeFetch(() => Response.json({ accepted: ['e1'] }, { status: 202 }));
    const api = createApi({ baseUrl: 'https://lifeboat.test', getToken: async () => 't', fetch: fetchFn });
    await api.seen({ seq: 4, eventIds: ['e1'], client: 'mac' });
    expect(calls[0].url).toBe('https://lifeboat.test/api/me/status/seen');
    expect(calls[0].init.method).toBe('POST');
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ seq: 4, eventIds: ['e1'], client: 'mac' });
  });
});
