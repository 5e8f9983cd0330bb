/** mongoose connections. No module-level singleton: callers own the connection they open. */
import mongoose, { type Connection, type Model, type Schema } from 'mongoose';

/** The database named in the URI's path, else "lifeboat". */
export function databaseName(uri: string): string {
  const afterHosts = uri.replace(/^mongodb(\+srv)?:\/\/[^/]*/, '');
  const name = decodeURIComponent(afterHosts.replace(/^\//, '').split('?')[0] ?? '');
  return name || 'lifeboat';
}

export async function openConnection(uri: string, dbName = databaseName(uri)): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    dbName,
    serverSelectionTimeoutMS: 10_000,
    // FerretDB has no retryable writes; our writes are idempotent instead (docs/ARCHITECTURE.md, "Database rules").
    retryWrites: false,
  });
  await conn.asPromise();
  return conn;
}

/** Registers a model once per connection (tests open many connections in one process); `collection`: its own name. */
export function defineModel<T>(conn: Connection, name: string, schema: Schema<T>, collection?: string): Model<T> {
  return (conn.models[name] as Model<T> | undefined) ?? conn.model<T>(name, schema, collection);
}

/** Answers whether the database responds within the timeout. */
export async function pingDatabase(conn: Connection, timeoutMs = 2000): Promise<boolean> {
  if (!conn.db) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('ping timed out')), timeoutMs);
    });
    await Promise.race([conn.db.admin().ping(), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
