/**
 * The REST contract's building blocks: one registry per document, the shared Problem schema, the two
 * security schemes, and `operation()`, which turns a route's own zod schemas into an OpenAPI operation
 * with every error answer its guards and validation can give. Capabilities register in their own files
 * (server/http/openapi/<capability>.ts); a new route is one `c.operation({...})` line there.
 */
import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { SESSION_COOKIE } from '../../auth/middleware';

/** RFC 9457 problem details as server/http/problem.ts writes them; `errors` names each bad field (422). */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    retryAfter: z.number().optional(),
  })
  .loose()
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json).' });

/**
 * Who may call: nobody in particular; an admin session with at least a role; an Outlook user's bearer
 * token; or the SMS gateway (verified by signature or shared secret, not by a session).
 */
export type Access = 'public' | 'reader' | 'basic' | 'full' | 'user' | 'gateway';

export const ADMIN_SESSION = 'adminSession';
export const USER_TOKEN = 'userToken';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface Answer {
  status: number;
  /** The body's schema; omitted: no body (204) or a non-JSON body typed by `contentType`. */
  schema?: z.ZodType;
  /** Default application/json. */
  contentType?: string;
  description?: string;
}

export interface Operation {
  method: Method;
  /** Express-style path, as the route is registered (`/api/events/:id`). */
  path: string;
  summary: string;
  access: Access;
  /** The body schema the route parses (the same const the route uses). */
  body?: z.ZodType;
  /** A body that is not JSON (an uploaded file: `application/octet-stream`, its schema `z.string()`). Default application/json. */
  bodyContentType?: string;
  /** The body may be left out altogether (POST /api/directory/sync). */
  bodyOptional?: boolean;
  query?: z.ZodObject;
  /** Path parameters that are more than a non-empty string (default). */
  params?: Record<string, z.ZodType>;
  ok: Answer | Answer[];
  /** Error statuses beyond the ones access, body, query and path parameters already imply (404, 409, 502…). */
  errors?: number[];
  /** A person's browser lands here (`/auth/…`): these refusals are HTML pages saying what to do, not problem+json. */
  errorPages?: number[];
}

const ERROR_TITLES: Record<number, string> = {
  400: 'The request could not be read (bad JSON, bad field types).',
  401: 'Not signed in, or the session/token is no longer valid.',
  403: 'Signed in, but without the role this needs.',
  404: 'No such resource in the caller’s tenant.',
  409: 'Conflicts with the current state.',
  413: 'The request body is too large.',
  415: 'The body is not JSON.',
  422: 'A field is not valid; `errors` names each.',
  429: 'Too many attempts; see Retry-After.',
  502: 'An upstream service (Microsoft Graph, a mail server) failed.',
  503: 'Not available right now.',
};

const ROLE_OF: Partial<Record<Access, string>> = { reader: 'readOnly', basic: 'basicAdministrator', full: 'fullAdministrator' };

/** `/api/events/:id` → `/api/events/{id}` and the names of its parameters. */
export function openApiPath(expressPath: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = expressPath.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path, params };
}

export function createContract() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', ADMIN_SESSION, {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
    description: 'The administrator session set by POST /api/auth/login (HttpOnly, SameSite=Strict).',
  });
  registry.registerComponent('securitySchemes', USER_TOKEN, {
    type: 'http',
    scheme: 'bearer',
    description: 'An Outlook user’s token: a Lifeboat token from POST /api/user-auth/login or an Entra ID access token (NAA).',
  });
  const problem = (status: number) => ({
    description: ERROR_TITLES[status] ?? 'Error.',
    content: { 'application/problem+json': { schema: Problem } },
  });
  const registered: Array<{ method: Method; path: string }> = [];

  return {
    registry,
    /** The Express routes this contract covers (the coverage test compares them with the app's). */
    registered,
    operation(op: Operation): void {
      const { path, params } = openApiPath(op.path);
      // Every operation may be rate limited (per identity and per client address).
      const errors = new Set([...(op.errors ?? []), 429]);
      if (op.access === 'user' || ROLE_OF[op.access]) errors.add(401);
      if (op.access === 'basic' || op.access === 'full') errors.add(403);
      if (op.body) [400, 413, 415, 422].forEach((s) => errors.add(s));
      if (op.query) errors.add(422);
      if (params.length) errors.add(404);
      const responses: Record<string, { description: string; content?: Record<string, { schema: z.ZodType }> }> = {};
      for (const answer of Array.isArray(op.ok) ? op.ok : [op.ok]) {
        // Several answers with one status are one response with several media types.
        const response = (responses[answer.status] ??= { description: answer.description ?? 'OK' });
        if (answer.schema || answer.contentType) {
          response.content = { ...response.content, [answer.contentType ?? 'application/json']: { schema: answer.schema ?? z.string() } };
        }
      }
      for (const status of [...errors].sort()) responses[status] = problem(status);
      for (const status of op.errorPages ?? [])
        responses[status] = { description: ERROR_TITLES[status] ?? 'Error.', content: { 'text/html': { schema: z.string() } } };
      const role = ROLE_OF[op.access];
      registry.registerPath({
        method: op.method,
        path,
        summary: op.summary,
        ...(role ? { description: `Needs an administrator session with the ${role} role or higher.` } : {}),
        tags: [tagOf(op.path)],
        security: role ? [{ [ADMIN_SESSION]: [] }] : op.access === 'user' ? [{ [USER_TOKEN]: [] }] : [],
        request: {
          ...(params.length ? { params: z.object(Object.fromEntries(params.map((p) => [p, op.params?.[p] ?? z.string().min(1)]))) } : {}),
          ...(op.query ? { query: op.query } : {}),
          ...(op.body ? { body: { required: !op.bodyOptional, content: { [op.bodyContentType ?? 'application/json']: { schema: op.body } } } } : {}),
        },
        responses: responses as never,
      });
      registered.push({ method: op.method, path: op.path });
    },
  };
}

export type Contract = ReturnType<typeof createContract>;

function tagOf(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts[0] === 'api' ? (parts[1] ?? 'api') : parts[0]!;
}
