/**
 * The one error type of the HTTP layer and its mapping to RFC 9457 problem+json.
 * Services throw HttpProblem (or its helpers); the error handler below is the only place
 * that turns errors into responses, so no route ever leaks a stack trace.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';

export interface FieldError {
  path: string;
  message: string;
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

export const badRequest = (detail: string) => new HttpProblem(400, 'Bad Request', detail);
export const unauthorized = (detail = 'Sign in first.') => new HttpProblem(401, 'Unauthorized', detail);
export const forbidden = (detail: string) => new HttpProblem(403, 'Forbidden', detail);
export const notFound = (what = 'resource') => new HttpProblem(404, 'Not Found', `No such ${what}.`);
export const conflict = (detail: string) => new HttpProblem(409, 'Conflict', detail);
export const unprocessable = (errors: FieldError[]) =>
  new HttpProblem(422, 'Unprocessable Content', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
export const tooManyRequests = (retryAfterSeconds: number, detail = 'Too many attempts. Try again later.') =>
  new HttpProblem(429, 'Too Many Requests', detail, { retryAfter: retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) });

export function sendProblem(res: Response, problem: HttpProblem): void {
  res.status(problem.status);
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res.type('application/problem+json');
  res.send(
    JSON.stringify({
      type: 'about:blank',
      title: problem.title,
      status: problem.status,
      ...(problem.detail ? { detail: problem.detail } : {}),
      ...problem.extra,
    }),
  );
}

export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new HttpProblem(404, 'Not Found', `No route for ${req.method} ${req.path}.`));
};

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

/** Maps any error to problem+json. Unknown errors become a logged 500 without details. */
export const problemHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  if (res.headersSent) return;
  if (err instanceof HttpProblem) return sendProblem(res, err);
  const parserError = err as BodyParserError;
  switch (parserError?.type) {
    case 'entity.parse.failed':
      return sendProblem(res, badRequest('The request body is not valid JSON.'));
    case 'entity.too.large':
      return sendProblem(res, new HttpProblem(413, 'Content Too Large', `The request body exceeds the ${parserError.limit} byte limit.`));
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return sendProblem(res, new HttpProblem(415, 'Unsupported Media Type', 'Send the body as UTF-8 JSON.'));
  }
  if (typeof parserError?.status === 'number' && parserError.status >= 400 && parserError.status < 500) {
    return sendProblem(res, new HttpProblem(parserError.status, 'Bad Request', 'The request could not be read.'));
  }
  req.log?.error({ err }, 'unhandled error');
  sendProblem(res, new HttpProblem(500, 'Internal Server Error', 'Something went wrong on our side; it has been logged.'));
};
