/** GET /api/openapi.json: the REST contract, built once when the app is created. */
import { Router } from 'express';
import { openApiDocument } from './document';

export function openApiRoutes(): Router {
  const router = Router();
  const body = JSON.stringify(openApiDocument());
  router.get('/api/openapi.json', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.type('application/json').send(body);
  });
  return router;
}
