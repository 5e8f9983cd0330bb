/**
 * The web inbox's Microsoft sign-in over HTTP (./entra-sign-in.ts does the work):
 *  - `GET /api/inbox/sign-in-options?address=`: whether the sign-in page offers Microsoft, or why not;
 *  - `GET /auth/entra/start?address=`: to Entra's authorize endpoint, with the flow cookie set;
 *  - `GET /auth/entra/callback`: Entra's answer; signed in → back to `/` with a one-time hand-over
 *    cookie; anything else → a page that says what happened and what to do (never JSON: a person is here);
 *  - `POST /api/inbox/entra-session`: the inbox takes its token from the hand-over cookie, once.
 * Every redirect goes to a URL built from configuration (the public URL, Entra's authority host), never
 * to one a query parameter names. The cookies are HttpOnly and SameSite=Lax (Lax: the callback is a
 * top-level navigation from Entra's site, which a Strict cookie would not accompany).
 */
import { Router, type Response } from 'express';
import { parse as parseCookies } from 'cookie';
import { z } from 'zod';
import { requestContext } from '../auth/identity';
import { emailAddress } from '../http/addresses';
import { notFound } from '../http/problem';
import { parseQuery } from '../http/validate';
import { CALLBACK_PATH, FLOW_MINUTES, HANDOVER_SECONDS, SignInProblem, signInProblem, type EntraSignIn } from './entra-sign-in';
import { escapeHtml, htmlPage } from './page';

export const signInOptionsQuery = z.object({ address: emailAddress() });
export const entraStartQuery = z.object({ address: emailAddress() });

const FLOW_COOKIE = 'lifeboat_entra_flow';
const HANDOVER_COOKIE = 'lifeboat_entra_session';
const HANDOVER_PATH = '/api/inbox/entra-session';

export function entraSignInRoutes(deps: { signIn: EntraSignIn }): Router {
  const { signIn } = deps;
  const home = signIn.home;
  const secure = home.startsWith('https:');
  const router = Router();

  function problemPage(res: Response, problem: SignInProblem) {
    res.setHeader('Cache-Control', 'no-store');
    res
      .status(problem.status)
      .type('html')
      .send(
        htmlPage(
          problem.title,
          `<p data-problem="${escapeHtml(problem.kind)}">${escapeHtml(problem.advice)}</p>` +
            `<p><a href="${escapeHtml(home)}">Back to your continuity inbox</a></p>`,
        ),
      );
  }

  router.get('/api/inbox/sign-in-options', async (req, res) => {
    const { address } = parseQuery(signInOptionsQuery, req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await signIn.options(address));
  });

  router.get('/auth/entra/start', async (req, res) => {
    const parsed = entraStartQuery.safeParse(req.query);
    if (!parsed.success) return problemPage(res, signInProblem('unknownOrganisation'));
    try {
      const { url, cookie } = await signIn.start(parsed.data.address);
      res.cookie(FLOW_COOKIE, cookie, { httpOnly: true, sameSite: 'lax', secure, path: '/auth/entra', maxAge: FLOW_MINUTES * 60_000 });
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(302, url);
    } catch (err) {
      if (err instanceof SignInProblem) return problemPage(res, err);
      throw err;
    }
  });

  router.get(CALLBACK_PATH, async (req, res) => {
    const flow = parseCookies(req.headers.cookie ?? '')[FLOW_COOKIE];
    // The flow is over whatever happens next: its cookie cannot be used twice.
    res.clearCookie(FLOW_COOKIE, { httpOnly: true, sameSite: 'lax', secure, path: '/auth/entra' });
    const q = req.query as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 4096) : undefined);
    try {
      const session = await signIn.finish(
        { code: text(q.code), state: text(q.state), error: text(q.error), error_description: text(q.error_description) },
        flow,
        requestContext(req),
      );
      res.cookie(HANDOVER_COOKIE, signIn.handOver(session), { httpOnly: true, sameSite: 'lax', secure, path: HANDOVER_PATH, maxAge: HANDOVER_SECONDS * 1000 });
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(303, `${home}?signed-in=microsoft`);
    } catch (err) {
      if (err instanceof SignInProblem) return problemPage(res, err);
      throw err;
    }
  });

  router.post(HANDOVER_PATH, async (req, res) => {
    const sealed = parseCookies(req.headers.cookie ?? '')[HANDOVER_COOKIE];
    res.clearCookie(HANDOVER_COOKIE, { httpOnly: true, sameSite: 'lax', secure, path: HANDOVER_PATH });
    res.setHeader('Cache-Control', 'no-store');
    const session = await signIn.takeOver(sealed);
    if (!session) throw notFound('Microsoft sign-in waiting here: sign in again');
    res.json(session);
  });

  return router;
}
