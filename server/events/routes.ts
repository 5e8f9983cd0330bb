import { Router } from 'express';
import { z } from 'zod';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import type { DirectoryService } from '../directory/service';
import { notFound } from '../http/problem';
import { parseQuery } from '../http/validate';
import type { EventService } from './service';

export const listQuery = z.object({ show: z.enum(['all', 'current']).optional() });

export function eventRoutes(deps: {
  auth: AuthService;
  events: EventService;
  directory: DirectoryService;
  /** The tenant's SMS phone attribute (notify settings), shown read-only with the event's SMS. */
  smsPhoneAttribute?: (tenantId: string) => Promise<string>;
  /** The event's SMS runs (sent / skipped with reasons), from notify. */
  smsRuns?: (tenantId: string, eventId: string) => Promise<unknown[]>;
}): Router {
  const { auth, events, directory } = deps;
  const router = Router();
  const reader = requireAdmin(auth);
  const writer = requireAdmin(auth, 'basicAdministrator');
  const id = (raw: unknown) => String(raw);

  router.get('/api/events', reader, async (req, res) => {
    const { show } = parseQuery(listQuery, req);
    res.json(await events.list(currentAdmin(req).tenantId, show === 'all'));
  });

  router.post('/api/events', writer, async (req, res) => {
    const created = await events.create(currentAdmin(req), req.body, requestContext(req));
    res.status(201).location(`/api/events/${created.id}`).json(created);
  });

  router.get('/api/events/:id', reader, async (req, res) => {
    const { tenantId } = currentAdmin(req);
    const event = await events.get(tenantId, id(req.params.id));
    const phoneAttribute = event.sms ? ((await deps.smsPhoneAttribute?.(tenantId)) ?? 'mobilePhone') : null;
    const runs = event.sms ? ((await deps.smsRuns?.(tenantId, event.id)) ?? []) : [];
    res.json(event.sms ? { ...event, sms: { ...event.sms, phoneAttribute, runs } } : event);
  });

  router.patch('/api/events/:id', writer, async (req, res) => {
    res.json(await events.update(currentAdmin(req), id(req.params.id), req.body, requestContext(req)));
  });

  router.delete('/api/events/:id', writer, async (req, res) => {
    await events.remove(currentAdmin(req), id(req.params.id), requestContext(req));
    res.status(204).end();
  });

  router.post('/api/events/:id/start', writer, async (req, res) => {
    res.json(await events.startNow(currentAdmin(req), id(req.params.id), requestContext(req)));
  });

  router.post('/api/events/:id/end', writer, async (req, res) => {
    res.json(await events.endNow(currentAdmin(req), id(req.params.id), requestContext(req)));
  });

  router.post('/api/events/:id/clone', writer, async (req, res) => {
    const created = await events.clone(currentAdmin(req), id(req.params.id), req.body ?? {}, requestContext(req));
    res.status(201).location(`/api/events/${created.id}`).json(created);
  });

  router.get('/api/events/:id/transitions', reader, async (req, res) => {
    res.json(await events.transitionsOf(currentAdmin(req).tenantId, id(req.params.id)));
  });

  router.get('/api/users/:id/continuity', reader, async (req, res) => {
    const { tenantId } = currentAdmin(req);
    const user = await directory.getUser(tenantId, id(req.params.id));
    if (!user) throw notFound('user');
    const current = await events.currentEventsForUser(tenantId, user.id);
    res.json({ active: current.length > 0, events: current });
  });

  return router;
}
