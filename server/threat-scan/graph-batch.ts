/**
 * Message MIME fetched through Graph's JSON batching (`POST /$batch`, up to 20 requests in one HTTP round
 * trip): the scan's mailboxes queue their `/$value` GETs here and they leave together, so the per-request
 * cost of the Graph SDK, the token and HTTP is paid once per batch instead of once per message.
 *
 * Each queued request is made from inside the mailbox limiter (it holds one of the mailbox's 4 slots until
 * its answer): Graph counts every request of a batch toward its mailbox's concurrency, so the limit holds
 * as it did for single requests. A request that Graph throttles inside the batch (its own 429/503 with
 * Retry-After) waits that long and is queued again, still holding its slot, at most `maxRetries` times;
 * then it fails like a throttled single request would.
 */
import { GraphRequestError, type GraphApi } from '../directory/graph/client';

interface Queued {
  api: GraphApi;
  path: string;
  headers: Record<string, string>;
  attempt: number;
  onThrottled?: (status: number) => void;
  resolve: (body: Buffer) => void;
  reject: (err: unknown) => void;
}

interface BatchAnswer {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface GraphBatcherOptions {
  /** Graph's limit is 20 requests per batch. */
  maxBatch?: number;
  /** Retries of one request throttled inside a batch (the SDK's retries of the batch itself are separate). */
  maxRetries?: number;
  /** Seconds to wait when a throttled answer names no Retry-After. */
  defaultRetryAfterSeconds?: number;
  /**
   * How long a batch waits for more requests before it leaves with fewer than `maxBatch` (a few ms against
   * Graph's tens to hundreds per request: the slots freed by one answer otherwise leave as a batch of a few).
   */
  lingerMs?: number;
}

export function createGraphBatcher(options: GraphBatcherOptions = {}) {
  const maxBatch = options.maxBatch ?? 20;
  const maxRetries = options.maxRetries ?? 3;
  const lingerMs = options.lingerMs ?? 5;
  // One queue per tenant: a batch goes out with one tenant's token.
  const queues = new Map<string, { items: Queued[]; scheduled: boolean }>();

  function enqueue(tenantId: string, item: Queued): void {
    let queue = queues.get(tenantId);
    if (!queue) queues.set(tenantId, (queue = { items: [], scheduled: false }));
    queue.items.push(item);
    if (queue.items.length >= maxBatch) void send(queue.items.splice(0, maxBatch), tenantId);
    else if (!queue.scheduled) {
      // What the other mailboxes ask for meanwhile joins the same batch.
      queue.scheduled = true;
      const q = queue;
      setTimeout(() => {
        q.scheduled = false;
        while (q.items.length) void send(q.items.splice(0, maxBatch), tenantId);
      }, lingerMs);
    }
  }

  async function send(items: Queued[], tenantId: string): Promise<void> {
    let answers: BatchAnswer[];
    try {
      const reply = await items[0]!.api.post<{ responses?: BatchAnswer[] }>('/$batch', {
        requests: items.map((item, i) => ({ id: String(i), method: 'GET', url: item.path, headers: item.headers })),
      });
      answers = reply?.responses ?? [];
    } catch (err) {
      for (const item of items) item.reject(err);
      return;
    }
    const byId = new Map(answers.map((a) => [String(a.id), a]));
    items.forEach((item, i) => {
      const answer = byId.get(String(i));
      const what = `GET ${item.path.split('?')[0]}`;
      if (!answer) return item.reject(new GraphRequestError(`${what}: no answer in the batch response`, null, null));
      if (answer.status >= 200 && answer.status < 300) {
        const body = answer.body;
        return item.resolve(typeof body === 'string' ? Buffer.from(body, 'base64') : Buffer.from(body === undefined ? '' : JSON.stringify(body)));
      }
      const header = Object.entries(answer.headers ?? {}).find(([name]) => name.toLowerCase() === 'retry-after')?.[1];
      if ((answer.status === 429 || answer.status === 503) && item.attempt < maxRetries) {
        item.onThrottled?.(answer.status);
        const seconds = Number(header);
        const wait = (Number.isFinite(seconds) && seconds >= 0 ? seconds : (options.defaultRetryAfterSeconds ?? 1)) * 1000;
        setTimeout(() => enqueue(tenantId, { ...item, attempt: item.attempt + 1 }), wait);
        return;
      }
      const error = (answer.body as { error?: { code?: string; message?: string } } | undefined)?.error;
      item.reject(
        new GraphRequestError(
          `${what}: ${answer.status} ${error?.code ?? ''} ${error?.message ?? ''}`.replace(/\s+/g, ' ').trim(),
          answer.status,
          error?.code ?? null,
        ),
      );
    });
  }

  return {
    /** A raw body (a message's MIME at `/$value`) by way of the next batch. `path` is relative to the Graph version. */
    getBytes(api: GraphApi, tenantId: string, path: string, headers: Record<string, string>, onThrottled?: (status: number) => void): Promise<Buffer> {
      return new Promise<Buffer>((resolve, reject) => enqueue(tenantId, { api, path, headers, attempt: 0, onThrottled, resolve, reject }));
    },
  };
}
export type GraphBatcher = ReturnType<typeof createGraphBatcher>;
