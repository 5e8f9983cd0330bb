/** Request validation with zod; every failure becomes one 422 listing each bad field. */
import type { Request } from 'express';
import { z } from 'zod';
import { HttpProblem, unprocessable, type FieldError } from './problem';

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    path: issue.path.length ? issue.path.map(String).join('.') : '(body)',
    message: issue.message,
  }));
}

export function parseBody<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  if (req.body === undefined) {
    throw new HttpProblem(415, 'Unsupported Media Type', 'Send the request body as application/json.');
  }
  const result = schema.safeParse(req.body);
  if (!result.success) throw unprocessable(fieldErrors(result.error));
  return result.data;
}

export function parseQuery<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  const result = schema.safeParse(req.query);
  if (!result.success) throw unprocessable(fieldErrors(result.error));
  return result.data;
}

/** Escapes user text for use inside a RegExp (search boxes). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
