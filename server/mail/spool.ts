/**
 * The receiver's spool, as an MTA keeps queue files: an accepted message is appended to a local file
 * and fsync'd before the 250, then written to the database (the routing journal) in the background.
 * One embedded-database insert costs 0.7-0.9 ms however small, and a sender waits for its 250: with
 * few connections that latency, not CPU, bounded the receiver (bench:smtp). An append plus fdatasync
 * costs 0.1-0.3 ms. The spool holds a message only until the database has it (milliseconds); files
 * left by a process that died are replayed into the database at the next start.
 *
 * File format: records of [u32 length][u32 crc32][payload], payload = JSON header (the message record
 * without its raw MIME) + "\n" + the raw MIME. A torn record at the end of a file (the process died
 * while writing it) fails its length or checksum and is ignored: it was never answered 250.
 *
 * One process owns a spool directory (a LOCK file with its pid); a second process finds it locked
 * and stores straight to the database instead.
 */
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { fdatasync, writevSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from 'pino';
import type { MailMessageRecord } from './model';

const SUFFIX = '.spool';
const LOCK = 'LOCK';
const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;
/**
 * A file is closed after this long too, and as soon as everything in it is in the database once it is
 * this old: a restart replays only what a file still holds, so files stay small and short-lived.
 */
const SEGMENT_MS = 1000;

export interface SpoolOptions {
  dir: string;
  logger: Logger;
  /** A segment file is closed after this many bytes (and removed once the database has all of it). */
  segmentBytes?: number;
}

interface Segment {
  file: string;
  createdAt: number;
  fd: number;
  bytes: number;
  outstanding: number;
  closed: boolean;
  /** An append is being written to it (its file must not be closed meanwhile). */
  appending: boolean;
}

/** Where a batch was appended: pass it to settled() once the database has those messages. */
export type SpoolTicket = Segment;

/** A record as buffers for writev: length and checksum, the JSON header line, the raw MIME (not copied). */
function encode(record: MailMessageRecord, raw: Buffer): Buffer[] {
  const { raw: _inline, ...header } = record;
  const head = Buffer.from(`${JSON.stringify(header)}\n`, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32LE(head.length + raw.length, 0);
  prefix.writeUInt32LE(crc32(raw, crc32(head)), 4);
  return [prefix, head, raw];
}

/** The complete records of a spool file (a torn or corrupt tail ends the reading). */
export function readSpoolFile(file: string): MailMessageRecord[] {
  const data = readFileSync(file);
  const records: MailMessageRecord[] = [];
  let at = 0;
  while (at + 8 <= data.length) {
    const length = data.readUInt32LE(at);
    const sum = data.readUInt32LE(at + 4);
    if (at + 8 + length > data.length) break;
    const payload = data.subarray(at + 8, at + 8 + length);
    if (crc32(payload) !== sum) break;
    const newline = payload.indexOf(10);
    if (newline < 0) break;
    const header = JSON.parse(payload.subarray(0, newline).toString('utf8')) as Omit<MailMessageRecord, 'raw' | 'receivedAt'> & { receivedAt: string };
    records.push({ ...header, receivedAt: new Date(header.receivedAt), raw: payload.subarray(newline + 1).toString('latin1') });
    at += 8 + length;
  }
  return records;
}

/**
 * A process's identity for the lock: its pid and, on Linux, its start time (so a pid reused by
 * another process, or a zombie left by a killed server, does not count as the holder).
 */
export function processIdentity(pid: number): string | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    return `${pid} ${fields[19]}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || existsSync('/proc/self/stat')) return null;
  }
  // No /proc (not Linux): the pid alone.
  try {
    process.kill(pid, 0);
    return `${pid}`;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? `${pid}` : null;
  }
}

/**
 * Opens the spool directory for this process, or returns null (with a warning) when another live
 * process holds it. `leftovers` are the records of files a dead process left: the caller writes them
 * to the database and then calls discardLeftovers().
 */
export function openSpool(options: SpoolOptions) {
  const { dir, logger } = options;
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lockFile = path.join(dir, LOCK);
  const me = processIdentity(process.pid) ?? String(process.pid);
  try {
    const holder = readFileSync(lockFile, 'utf8').trim();
    const pid = Number(holder.split(' ')[0]);
    if (holder !== me && Number.isInteger(pid) && pid > 0 && pid !== process.pid && processIdentity(pid) === holder) {
      logger.warn({ dir, pid }, 'the mail spool is held by another running process; storing straight to the database');
      return null;
    }
  } catch {
    // No lock yet.
  }
  writeFileSync(lockFile, `${me}\n`);

  const leftoverFiles = readdirSync(dir)
    .filter((f) => f.endsWith(SUFFIX))
    .sort()
    .map((f) => path.join(dir, f));
  const leftovers = leftoverFiles.flatMap((file) => readSpoolFile(file));

  let current: Segment | null = null;
  let sequence = 0;
  const fsyncDir = () => {
    const fd = openSync(dir, 'r');
    try {
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  };

  function release(seg: Segment): void {
    if (!seg.closed || seg.outstanding > 0) return;
    try {
      unlinkSync(seg.file);
    } catch (err) {
      logger.warn({ err, file: seg.file }, 'removing a settled spool file failed');
    }
  }

  function closeCurrent(): void {
    if (!current) return;
    closeSync(current.fd);
    current.closed = true;
    release(current);
    current = null;
  }

  function segment(): Segment {
    if (current && current.bytes < segmentBytes && Date.now() - current.createdAt < SEGMENT_MS) return current;
    closeCurrent();
    const file = path.join(dir, `${Date.now().toString(36)}-${process.pid}-${(sequence++).toString(36).padStart(4, '0')}${SUFFIX}`);
    current = { file, createdAt: Date.now(), fd: openSync(file, 'a', 0o600), bytes: 0, outstanding: 0, closed: false, appending: false };
    fsyncDir(); // the new file's name must survive a crash too
    return current;
  }

  let writing: Promise<unknown> = Promise.resolve();

  return {
    dir,
    leftovers,
    /** The leftovers are in the database: their files go. */
    discardLeftovers(): void {
      for (const file of leftoverFiles) unlinkSync(file);
      leftoverFiles.length = 0;
    },

    /** Appends the records and syncs them to disk; resolves only then (the 250 may follow). */
    append(messages: { record: MailMessageRecord; raw: Buffer }[]): Promise<SpoolTicket> {
      const run = writing.then(
        () =>
          new Promise<SpoolTicket>((resolve, reject) => {
            const seg = segment();
            seg.appending = true;
            const buffers = messages.flatMap((m) => encode(m.record, m.raw));
            const size = buffers.reduce((n, b) => n + b.length, 0);
            // After a failed write the file may end in a torn record: later records go to a new file.
            const fail = (err: Error) => {
              seg.appending = false;
              seg.bytes = Number.POSITIVE_INFINITY;
              reject(err);
            };
            // The write only copies into the page cache (microseconds): done here, it saves a trip
            // through the thread pool; the sync, which waits for the disk, goes there.
            let written: number;
            try {
              written = writevSync(seg.fd, buffers);
            } catch (err) {
              return fail(err as Error);
            }
            if (written !== size) return fail(new Error(`short spool write (${written} of ${size} bytes)`));
            fdatasync(seg.fd, (syncErr) => {
              if (syncErr) return fail(syncErr);
              seg.appending = false;
              seg.bytes += size;
              seg.outstanding += messages.length;
              resolve(seg);
            });
          }),
      );
      writing = run.catch(() => {});
      return run;
    },

    /** These records of the batch are in the database: a closed file goes once all its records are. */
    settled(ticket: SpoolTicket, count: number): void {
      ticket.outstanding -= count;
      if (ticket === current && ticket.outstanding === 0 && !ticket.appending && Date.now() - ticket.createdAt >= SEGMENT_MS) closeCurrent();
      else release(ticket);
    },

    /** A clean stop: the open file is closed (removed if everything in it is in the database). */
    close(): void {
      closeCurrent();
      try {
        if (readFileSync(lockFile, 'utf8').trim() === me) unlinkSync(lockFile);
      } catch {
        // Already gone.
      }
    },
  };
}
export type Spool = NonNullable<ReturnType<typeof openSpool>>;
