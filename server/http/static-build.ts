/**
 * Serves the webpack output with the cache rules every page shares: HTML `no-cache` (a new build
 * is picked up at once), content-hashed bundles immutable for a year, everything else an hour.
 */
import express, { type RequestHandler, type Response } from 'express';

const HASHED = /\.[0-9a-f]{8}\.js$/;

export function noCache(res: Response): void {
  res.setHeader('Cache-Control', 'no-cache');
}

export function serveBuild(buildDir: string): RequestHandler {
  return express.static(buildDir, {
    index: false,
    fallthrough: true,
    setHeaders: (res, file) => {
      if (file.endsWith('.html')) noCache(res);
      else if (HASHED.test(file)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      else res.setHeader('Cache-Control', 'public, max-age=3600');
    },
  });
}
