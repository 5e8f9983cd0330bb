/**
 * `/portal/<token>`: a small server-rendered, mobile-friendly page (no script) and its form POSTs.
 * Bad links get a clear page with a 4xx status and no actions.
 */
import express, { Router, type Response } from 'express';
import { HttpProblem } from '../http/problem';
import { monitorTimeFormatter } from '../shared/monitor-time';
import type { PortalService, Resolved } from './service';

const esc = (value: unknown) => String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:16px/1.45 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;background:#f3f2f1;color:#201f1e}
main{max-width:640px;margin:0 auto;padding:16px;overflow-wrap:anywhere}
th:nth-child(1){width:28%}th:nth-child(4){width:17%}th{overflow-wrap:normal}
h1{font-size:1.35rem;margin:.2rem 0 .6rem}h2{font-size:1.05rem;margin:0 0 .5rem}
.card{background:#fff;border-radius:8px;padding:14px 16px;margin:12px 0;box-shadow:0 1px 2px rgba(0,0,0,.12)}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;font-size:.85rem}
.detected{background:#fde7e9;color:#a4262c}.normal{background:#dff6dd;color:#107c10}.muted{color:#605e5c;font-size:.9rem}
.banner{padding:10px 14px;border-radius:6px;margin:12px 0}.ok{background:#dff6dd;color:#0b5a08}.err{background:#fde7e9;color:#a4262c}
table{width:100%;border-collapse:collapse;font-size:.85rem;table-layout:fixed}td,th{padding:4px 6px;overflow-wrap:anywhere;border-bottom:1px solid #edebe9;text-align:left;vertical-align:top}
label{display:block;font-size:.9rem;margin:.4rem 0 .15rem}input,select{width:100%;padding:10px;font-size:1rem;border:1px solid #8a8886;border-radius:4px}
button{width:100%;margin-top:10px;padding:12px;font-size:1rem;font-weight:600;border:0;border-radius:4px;background:#0f6cbd;color:#fff}
button.danger{background:#a4262c}button.secondary{background:#fff;color:#0f6cbd;border:1px solid #0f6cbd}
.row{display:flex;gap:8px}.row>*{flex:1}
`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">
<title>${esc(title)} · Lifeboat</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

function send(res: Response, status: number, html: string): void {
  res.status(status);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  res.setHeader('X-Frame-Options', 'DENY');
  res.send(html);
}

function refusal(res: Response, r: Extract<Resolved, { ok: false }>): void {
  send(
    res,
    r.status,
    layout(
      r.title,
      `<p class="muted">Lifeboat continuity portal</p><div class="card"><h1>${esc(r.title)}</h1><p>${esc(r.message)}</p><p class="muted">No action can be taken with this link.</p></div>`,
    ),
  );
}

const DONE: Record<string, string> = {
  started: 'The continuity event has started.',
  extended: 'The event was extended.',
  ended: 'The event has ended.',
  cancelled: 'Auto-activation was cancelled for this detection.',
};

type PageData = Awaited<ReturnType<PortalService['page']>>;

function render(token: string, data: PageData, notice: { kind: 'ok' | 'err'; text: string } | null): string {
  const m = data.monitor;
  const when = monitorTimeFormatter(m.timeZone);
  const action = (name: string) => `/portal/${esc(token)}/actions/${name}`;
  const csrf = `<input type="hidden" name="csrf" value="${esc(data.csrf)}">`;
  const status = m.state.status === 'detected' ? '<span class="badge detected">Problem detected</span>' : '<span class="badge normal">Mail flow normal</span>';
  const rows = data.log
    .map(
      (l) =>
        `<tr><td>${esc(when(l.at))}</td><td>${esc(l.check)}${l.route ? `<br><span class="muted">${esc(l.route)}</span>` : ''}</td><td>${esc(l.decision ?? l.outcome)}${l.latencyMs !== null ? ` · ${esc(l.latencyMs)} ms` : ''}${l.error ? `<br><span class="muted">${esc(l.error)}</span>` : ''}</td><td>${esc(l.failureCount)}</td></tr>`,
    )
    .join('');
  const events = data.current
    .map(
      (e) => `<div class="card"><h2>Current event: ${esc(e.description)}</h2>
<p class="muted">${esc(e.affectedGroup.displayName ?? e.affectedGroupId)} · since ${esc(monitorTimeFormatter(e.timeZone)(e.start))} · ${e.end ? `until ${esc(monitorTimeFormatter(e.timeZone)(e.end))}` : 'no end'}</p>
<form method="post" action="${action('extend')}">${csrf}<input type="hidden" name="eventId" value="${esc(e.id)}"><label for="x-${esc(e.id)}">Extend by (hours)</label><input id="x-${esc(e.id)}" name="hours" type="number" min="0.25" step="0.25" value="2" inputmode="decimal"><button type="submit" class="secondary">Extend event</button></form>
<form method="post" action="${action('end')}">${csrf}<input type="hidden" name="eventId" value="${esc(e.id)}"><button type="submit" class="danger">End event now</button></form></div>`,
    )
    .join('');
  const auto = m.state.autoActivation;
  const autoCard = auto.firesAt
    ? `<div class="card"><h2>Auto-activation</h2><p>An event for the default group starts automatically at <strong>${esc(when(auto.firesAt))}</strong> unless someone answers.</p><form method="post" action="${action('cancel-auto')}">${csrf}<button type="submit" class="secondary">Cancel auto-activation</button></form></div>`
    : '';
  return layout(
    `${m.name}`,
    `<p class="muted">Lifeboat continuity portal · alert ${esc(data.alert._id)}</p>
<h1>${esc(m.name)}</h1>
${notice ? `<div class="banner ${notice.kind}" role="status">${esc(notice.text)}</div>` : ''}
<div class="card">${status}
<p>Failure counter <strong>${esc(m.state.failureCount)}</strong> of threshold ${esc(m.failureThreshold)} · windows of ${esc(m.windowMinutes)} min${m.state.detectedAt ? ` · detected ${esc(when(m.state.detectedAt))}` : ''}</p>
${m.state.suppressedUntil ? `<p><strong>Alerts suppressed until ${esc(when(m.state.suppressedUntil))}</strong></p>` : ''}
<p class="muted">Alert sent ${esc(when(data.alert.at.toISOString()))}; this link works until ${esc(when(data.alert.expiresAt.toISOString()))}. Times in ${esc(m.timeZone)}.</p></div>
${autoCard}
<div class="card"><h2>Start a continuity event now</h2>
<form method="post" action="${action('start')}">${csrf}
<label for="groupId">Affected group (id or address)</label><input id="groupId" name="groupId" value="${esc(m.defaultGroupId ?? '')}" placeholder="group id or address" autocomplete="off">
${data.defaultGroup ? `<p class="muted">Default: ${esc(data.defaultGroup.displayName)}</p>` : ''}
<label for="start-hours">Duration (hours)</label><input id="start-hours" name="hours" type="number" min="0.25" step="0.25" value="${esc(m.defaultDurationHours)}" inputmode="decimal">
<button type="submit">Start event now</button></form></div>
${events}
<div class="card"><h2>Suppress alerts</h2><form method="post" action="${action('suppress')}">${csrf}<label for="suppress-hours">For (hours)</label><input id="suppress-hours" name="hours" type="number" min="0.25" step="0.25" value="4" inputmode="decimal"><button type="submit" class="secondary">Suppress alerts</button></form></div>
<div class="card"><h2>What was detected</h2>${rows ? `<table><thead><tr><th>Time</th><th>Check</th><th>Result</th><th>Count</th></tr></thead><tbody>${rows}</tbody></table>` : '<p class="muted">No checks logged yet.</p>'}</div>`,
  );
}

export function portalRoutes(deps: { portal: PortalService }): Router {
  const { portal } = deps;
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });

  router.get('/portal/:token', async (req, res) => {
    const token = String(req.params.token);
    const r = await portal.resolve(token);
    if (!r.ok) return refusal(res, r);
    const done = typeof req.query.done === 'string' ? req.query.done : '';
    let notice: { kind: 'ok'; text: string } | null = null;
    if (DONE[done]) notice = { kind: 'ok', text: DONE[done]! };
    else if (done.startsWith('suppressed:')) notice = { kind: 'ok', text: 'Alerts are suppressed.' };
    send(res, 200, render(token, await portal.page(r, token), notice));
  });

  router.post('/portal/:token/actions/:action', form, async (req, res) => {
    const token = String(req.params.token);
    const r = await portal.resolve(token);
    if (!r.ok) return refusal(res, r);
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    try {
      const done = await portal.act(r, token, String(req.params.action), body, { ip: req.ip ?? null, requestId: req.id === undefined ? null : String(req.id) });
      res.redirect(303, `/portal/${token}?done=${encodeURIComponent(done)}`);
    } catch (err) {
      if (!(err instanceof HttpProblem)) throw err;
      const fresh = await portal.resolve(token);
      if (!fresh.ok) return refusal(res, fresh);
      send(res, err.status, render(token, await portal.page(fresh, token), { kind: 'err', text: err.detail ?? err.title }));
    }
  });

  return router;
}
