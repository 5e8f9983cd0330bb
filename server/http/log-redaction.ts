/**
 * What the request log may not keep: a portal link's token is a 24-hour credential with event powers,
 * so `/portal/<token>…` is logged as `/portal/[redacted]…`.
 */
export function redactUrl(url: string | undefined): string | undefined {
  return url?.replace(/^\/portal\/[^/?#]+/, '/portal/[redacted]');
}

/** pino-http's request serializer with the URL redacted. */
export function redactedRequest(req: { url?: string } & Record<string, unknown>): Record<string, unknown> {
  return { ...req, url: redactUrl(req.url) };
}
