/**
 * Spreadsheet import of cloud passwords (seed prerequisites, step 6): a CSV or XLSX of `email,
 * password` rows, where the password may be `generate`. A dry run reports every row (with its
 * spreadsheet row number) as it would go — set, generate, unknown user, weak password, duplicate —
 * and changes nothing; apply sets the passwords of the good rows. Passwords Lifeboat generated can
 * be downloaded once as a CSV, for the admin to hand out out-of-band; the audit trail gets counts
 * and user ids, never a password. Parsing is csv-parse and read-excel-file, never by hand.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parse as parseCsv } from 'csv-parse/sync';
import { readSheet } from 'read-excel-file/node';
import type { AuditService } from '../audit/service';
import { csvHeader, csvRow } from '../audit/csv';
import { adminActor, type AdminIdentity } from '../auth/identity';
import { passwordProblem } from '../auth/password';
import type { DirectoryService } from '../directory/service';
import { isEmailAddress, normalizeAddress } from '../http/addresses';
import { notFound, unprocessable } from '../http/problem';

export const IMPORT_LIMITS = { rows: 5000, bytes: 5 * 1024 * 1024, downloadMinutes: 30 };
const XLSX_MAGIC = Buffer.from('PK\x03\x04', 'latin1');

export type ImportOutcome = 'set' | 'generate' | 'unknownUser' | 'weakPassword' | 'duplicate' | 'invalid';
export interface ImportRowResult {
  /** The row number as the spreadsheet shows it (1 = the first line, the header when there is one). */
  row: number;
  email: string;
  outcome: ImportOutcome;
  message: string | null;
  userId: string | null;
}

interface Context {
  ip: string | null;
  requestId: string | null;
}

/** Reads the file's rows as text cells; XLSX is told by its ZIP signature, anything else is CSV. */
async function readRows(file: Buffer): Promise<string[][]> {
  if (file.subarray(0, 4).equals(XLSX_MAGIC)) {
    try {
      const sheet = await readSheet(file);
      return sheet.map((row) => row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))));
    } catch (err) {
      throw unprocessable([{ path: 'file', message: `is not a readable XLSX workbook (${(err as Error).message})` }]);
    }
  }
  try {
    const text = file.toString('utf8').replace(/^\uFEFF/, '');
    return parseCsv(text, { relax_column_count: true, skip_empty_lines: false, trim: true }) as string[][];
  } catch (err) {
    throw unprocessable([{ path: 'file', message: `is not readable CSV (${(err as Error).message})` }]);
  }
}

/**
 * 20 characters, 120 bits. Never starting with '-': the download's CSV neutralises a cell that starts
 * like a formula with an apostrophe, and the admin would hand out a password that does not work.
 */
function generated(): string {
  for (;;) {
    const password = randomBytes(15).toString('base64url');
    if (!password.startsWith('-')) return password;
  }
}

export function createPasswordImport(deps: {
  directory: DirectoryService;
  audit: AuditService;
  /** Sets one user's password (the user-auth service's own write, which hashes it). */
  store: (tenantId: string, userId: string, password: string, setBy: string) => Promise<void>;
  now: () => Date;
}) {
  const { directory, audit, now } = deps;
  /** Generated passwords waiting for their one download, by a random token (this process only). */
  const downloads = new Map<string, { tenantId: string; csv: string; expiresAt: number }>();

  async function check(tenantId: string, file: Buffer): Promise<{ results: ImportRowResult[]; passwords: Map<number, string> }> {
    if (!file.length) throw unprocessable([{ path: 'file', message: 'is empty' }]);
    const rows = await readRows(file);
    if (rows.length > IMPORT_LIMITS.rows + 1) throw unprocessable([{ path: 'file', message: `has more than ${IMPORT_LIMITS.rows} rows` }]);
    const results: ImportRowResult[] = [];
    const passwords = new Map<number, string>();
    const seen = new Map<string, number>();
    for (const [index, cells] of rows.entries()) {
      const row = index + 1;
      const email = (cells[0] ?? '').trim();
      const password = cells[1] ?? '';
      if (!email && !password.trim()) continue; // blank line
      if (row === 1 && email.toLowerCase() === 'email') continue; // header
      const result: ImportRowResult = { row, email, outcome: 'invalid', message: null, userId: null };
      results.push(result);
      if (!isEmailAddress(email)) {
        result.message = 'the first column must be an email address';
        continue;
      }
      const address = normalizeAddress(email);
      const first = seen.get(address);
      if (first !== undefined) {
        result.outcome = 'duplicate';
        result.message = `the same user as row ${first}; only the first row counts`;
        continue;
      }
      seen.set(address, row);
      const user = await directory.findUserByAddress(tenantId, address);
      if (!user) {
        result.outcome = 'unknownUser';
        result.message = "no user with this address in this tenant's directory";
        continue;
      }
      result.userId = user.id;
      if (password.trim().toLowerCase() === 'generate') {
        result.outcome = 'generate';
        continue;
      }
      const problem = passwordProblem(password);
      if (problem) {
        result.outcome = 'weakPassword';
        result.message = `password ${problem}`;
        continue;
      }
      result.outcome = 'set';
      passwords.set(row, password);
    }
    return { results, passwords };
  }

  const summary = (results: ImportRowResult[]) => {
    const count = (o: ImportOutcome) => results.filter((r) => r.outcome === o).length;
    return {
      rows: results.length,
      set: count('set'),
      generate: count('generate'),
      refused: results.length - count('set') - count('generate'),
    };
  };

  return {
    /** Every row's result; nothing is changed. */
    async dryRun(tenantId: string, file: Buffer) {
      const { results } = await check(tenantId, file);
      return { applied: false, summary: summary(results), rows: results };
    },

    /** Sets the good rows' passwords (refused rows are left out); generated ones wait for one download. */
    async apply(by: AdminIdentity, file: Buffer, context: Context) {
      const { results, passwords } = await check(by.tenantId, file);
      const handedOut: [string, string][] = [];
      for (const r of results) {
        if (r.outcome === 'set') await deps.store(by.tenantId, r.userId!, passwords.get(r.row)!, `${by.email} (import)`);
        if (r.outcome === 'generate') {
          const password = generated();
          await deps.store(by.tenantId, r.userId!, password, `${by.email} (import, generated)`);
          handedOut.push([r.email, password]);
        }
      }
      let download: string | null = null;
      if (handedOut.length) {
        const token = randomUUID();
        const csv = csvHeader(['email', 'password']) + handedOut.map((row) => csvRow(row)).join('');
        downloads.set(token, { tenantId: by.tenantId, csv, expiresAt: now().getTime() + IMPORT_LIMITS.downloadMinutes * 60_000 });
        download = `/api/users/cloud-passwords/generated/${token}`;
      }
      const totals = summary(results);
      await audit.record({
        tenantId: by.tenantId,
        category: 'security',
        action: 'user.cloudPassword.imported',
        actor: adminActor(by),
        target: { type: 'users', id: null, label: `${totals.set + totals.generate} cloud password(s) from a spreadsheet` },
        after: {
          ...totals,
          setFor: results.filter((r) => r.outcome === 'set').map((r) => r.userId),
          generatedFor: results.filter((r) => r.outcome === 'generate').map((r) => r.userId),
        },
        ...context,
      });
      return { applied: true, summary: totals, rows: results, download };
    },

    /** The generated passwords as CSV, once: the file is forgotten as it is handed out. */
    takeDownload(tenantId: string, token: string): string {
      const entry = downloads.get(token);
      for (const [key, value] of downloads) if (value.expiresAt <= now().getTime()) downloads.delete(key);
      if (!entry || entry.tenantId !== tenantId || entry.expiresAt <= now().getTime()) throw notFound('download (it can be fetched once)');
      downloads.delete(token);
      return entry.csv;
    },
  };
}
export type PasswordImport = ReturnType<typeof createPasswordImport>;
