/**
 * Microsoft Graph, the real way: tokens from @azure/msal-node (client credentials) and requests
 * through @microsoft/microsoft-graph-client. Throttling (429/503/504 + Retry-After) is honoured by
 * the SDK's RetryHandler, configured here. `ConsistencyLevel: eventual` is sent on every page of an
 * advanced query, because the SDK does not carry headers to @odata.nextLink requests.
 *
 * The endpoints are configurable (sovereign clouds, and the local stand-ins the tests use): an
 * authority host other than the public cloud's is declared to msal-node with knownAuthorities and
 * its metadata, so msal-node makes no discovery request and talks only to that host.
 */
import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import {
  AuthenticationHandler,
  Client,
  GraphError,
  HTTPMessageHandler,
  RedirectHandler,
  RetryHandler,
  ResponseType,
  RetryHandlerOptions,
  TelemetryHandler,
} from '@microsoft/microsoft-graph-client';
import { decodeJwt } from 'jose';
import type { EntraCredentials } from './connection';

export interface GraphEndpoints {
  /** e.g. https://login.microsoftonline.com */
  loginUrl: string;
  /** e.g. https://graph.microsoft.com */
  graphUrl: string;
}

export const PUBLIC_CLOUD: GraphEndpoints = { loginUrl: 'https://login.microsoftonline.com', graphUrl: 'https://graph.microsoft.com' };

export class GraphRequestError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly code: string | null,
  ) {
    super(message);
  }
}

export interface GraphPage<T> {
  value: T[];
  nextLink: string | null;
  deltaLink: string | null;
}

export interface PageOptions {
  /** Sends `ConsistencyLevel: eventual` (advanced queries: $search, $count, $orderby). */
  eventual?: boolean;
  /** Asks for pages of this size with `Prefer: odata.maxpagesize` (delta queries take no $top). */
  maxPageSize?: number;
  signal?: AbortSignal;
  /** More headers on every page (e.g. `Prefer: IdType="ImmutableId"`). */
  headers?: Record<string, string>;
}

export interface GraphApi {
  get<T>(path: string, options?: { eventual?: boolean; headers?: Record<string, string> }): Promise<T>;
  /** Follows @odata.nextLink until the last page (which may carry an @odata.deltaLink). */
  pages<T>(path: string, options?: PageOptions): AsyncGenerator<GraphPage<T>>;
  /** A POST (e.g. the continuity monitor's sendMail); resolves to the response body, if any. */
  post<T = unknown>(path: string, body: unknown, options?: { headers?: Record<string, string> }): Promise<T>;
  /** A GET of a raw body (a message's MIME at `/$value`). */
  getBytes(path: string, options?: { headers?: Record<string, string> }): Promise<Buffer>;
  delete(path: string): Promise<void>;
}

export interface GraphClientOptions {
  /** Called whenever Graph throttles a request (before the SDK waits Retry-After and retries). */
  onThrottled?: (status: number) => void;
  maxRetries?: number;
}

/** msal-node's view of an authority host that is not the public cloud. */
export function authorityOptions(endpoints: GraphEndpoints, entraTenantId: string): Partial<Configuration['auth']> {
  const login = new URL(endpoints.loginUrl);
  if (login.host === new URL(PUBLIC_CLOUD.loginUrl).host) return {};
  const base = `${login.origin}/${entraTenantId}`;
  return {
    knownAuthorities: [login.host],
    cloudDiscoveryMetadata: JSON.stringify({
      tenant_discovery_endpoint: `${base}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: login.host, preferred_cache: login.host, aliases: [login.host] }],
    }),
    authorityMetadata: JSON.stringify({
      token_endpoint: `${base}/oauth2/v2.0/token`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      issuer: `${base}/v2.0`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
    }),
  };
}

/** Graph SDK errors, msal errors and network errors as one error type with a message fit for admins. */
export function describeGraphError(err: unknown, what: string): GraphRequestError {
  if (err instanceof GraphRequestError) return err;
  if (err instanceof GraphError) {
    const status = err.statusCode > 0 ? err.statusCode : null;
    return new GraphRequestError(`${what}: ${status ?? 'no response'} ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' ').trim(), status, err.code ?? null);
  }
  const e = err as { errorCode?: string; errorMessage?: string; message?: string };
  if (e?.errorCode)
    return new GraphRequestError(`${what}: sign-in to Entra failed (${e.errorCode}) ${(e.errorMessage ?? '').split('\n')[0]}`.trim(), null, e.errorCode);
  return new GraphRequestError(`${what}: ${e?.message ?? String(err)}`, null, null);
}

/** An msal-node app for a tenant's Entra connection (secret or certificate), with PII logging off. */
export function confidentialClient(endpoints: GraphEndpoints, creds: EntraCredentials): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId: creds.clientId,
      authority: `${endpoints.loginUrl.replace(/\/+$/, '')}/${creds.entraTenantId}`,
      ...(creds.clientSecret !== undefined ? { clientSecret: creds.clientSecret } : {}),
      ...(creds.certificate
        ? {
            clientCertificate: {
              thumbprintSha256: creds.certificate.thumbprintSha256,
              privateKey: creds.certificate.privateKey,
              x5c: creds.certificate.certificatePem,
            },
          }
        : {}),
      ...authorityOptions(endpoints, creds.entraTenantId),
    },
    system: { loggerOptions: { piiLoggingEnabled: false, loggerCallback: () => {} } },
  });
}

export function createGraphClientFactory(endpoints: GraphEndpoints) {
  const apps = new Map<string, { version: string; app: ConfidentialClientApplication }>();

  function tokenApp(creds: EntraCredentials): ConfidentialClientApplication {
    const cached = apps.get(creds.tenantId);
    if (cached?.version === creds.version) return cached.app;
    const app = confidentialClient(endpoints, creds);
    apps.set(creds.tenantId, { version: creds.version, app });
    return app;
  }

  const graphUrl = new URL(endpoints.graphUrl);
  const scope = `${graphUrl.origin}/.default`;

  return {
    endpoints,

    forget(tenantId: string): void {
      apps.delete(tenantId);
    },

    /**
     * Proves a credential before it is stored: Entra must give this app a token for this Entra
     * tenant (a fresh sign-in, nothing cached). Answers the `tid` the token names when it is a JWT
     * (Entra's are), so a tenant connected by its domain is known by its id too.
     */
    async prove(creds: EntraCredentials): Promise<{ tid: string | null }> {
      let token: string;
      try {
        const result = await confidentialClient(endpoints, creds).acquireTokenByClientCredential({ scopes: [scope], skipCache: true });
        if (!result?.accessToken) throw new GraphRequestError('Entra returned no access token', null, null);
        token = result.accessToken;
      } catch (err) {
        throw describeGraphError(err, 'signing in to Entra ID with this connection');
      }
      try {
        const tid = decodeJwt(token).tid;
        return { tid: typeof tid === 'string' && /^[0-9a-f-]{36}$/i.test(tid) ? tid.toLowerCase() : null };
      } catch {
        return { tid: null };
      }
    },

    client(creds: EntraCredentials, options: GraphClientOptions = {}): GraphApi {
      const app = tokenApp(creds);
      const authProvider = {
        async getAccessToken(): Promise<string> {
          const result = await app.acquireTokenByClientCredential({ scopes: [scope] });
          if (!result?.accessToken) throw new GraphRequestError('Entra returned no access token', null, null);
          return result.accessToken;
        },
      };
      const retry = new RetryHandlerOptions(1, options.maxRetries ?? 6, (_delay, _attempt, _req, _opts, response) => {
        options.onThrottled?.(response.status);
        return true;
      });
      const first = new AuthenticationHandler(authProvider);
      const retryHandler = new RetryHandler(retry);
      const redirect = new RedirectHandler();
      const telemetry = new TelemetryHandler();
      first.setNext(retryHandler);
      retryHandler.setNext(redirect);
      redirect.setNext(telemetry);
      telemetry.setNext(new HTTPMessageHandler());
      const sdk = Client.initWithMiddleware({
        baseUrl: graphUrl.origin,
        middleware: first,
        customHosts: graphUrl.host === new URL(PUBLIC_CLOUD.graphUrl).host ? undefined : new Set([graphUrl.hostname]),
      });

      async function get<T>(path: string, eventual = false, maxPageSize?: number, headers: Record<string, string> = {}): Promise<T> {
        const request = sdk.api(path);
        if (eventual) request.header('ConsistencyLevel', 'eventual');
        const prefer = [headers.Prefer, maxPageSize ? `odata.maxpagesize=${maxPageSize}` : undefined].filter(Boolean).join(', ');
        for (const [name, value] of Object.entries(headers)) if (name !== 'Prefer') request.header(name, value);
        if (prefer) request.header('Prefer', prefer);
        try {
          return (await request.get()) as T;
        } catch (err) {
          throw describeGraphError(err, `GET ${path.replace(/^https:\/\/[^/]+/, '').split('?')[0]}`);
        }
      }

      return {
        get: (path, opts) => get(path, opts?.eventual, undefined, opts?.headers),
        async post<T>(path: string, body: unknown, opts: { headers?: Record<string, string> } = {}): Promise<T> {
          try {
            return (await sdk
              .api(path)
              .headers(opts.headers ?? {})
              .post(body)) as T;
          } catch (err) {
            throw describeGraphError(err, `POST ${path.split('?')[0]}`);
          }
        },
        async getBytes(path: string, opts: { headers?: Record<string, string> } = {}): Promise<Buffer> {
          try {
            const body = (await sdk
              .api(path)
              .headers(opts.headers ?? {})
              .responseType(ResponseType.ARRAYBUFFER)
              .get()) as ArrayBuffer;
            return Buffer.from(body);
          } catch (err) {
            throw describeGraphError(err, `GET ${path.split('?')[0]}`);
          }
        },
        async delete(path: string): Promise<void> {
          try {
            await sdk.api(path).delete();
          } catch (err) {
            throw describeGraphError(err, `DELETE ${path.split('?')[0]}`);
          }
        },
        async *pages<T>(path: string, opts: PageOptions = {}) {
          let next: string | null = path;
          while (next) {
            opts.signal?.throwIfAborted();
            // The headers go on every page: the SDK would drop them on nextLink requests.
            const body: { value?: T[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string } = await get(
              next,
              opts.eventual,
              opts.maxPageSize,
              opts.headers,
            );
            next = body['@odata.nextLink'] ?? null;
            yield { value: body.value ?? [], nextLink: next, deltaLink: body['@odata.deltaLink'] ?? null };
          }
        },
      };
    },
  };
}
export type GraphClientFactory = ReturnType<typeof createGraphClientFactory>;
