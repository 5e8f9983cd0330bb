/**
 * The file provider: a tenant's directory (or several tenants' directories) read from JSON that
 * uses Graph's own property names. Until a tenant is connected to Entra, this is its directory.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const nullableString = z.string().nullable().optional();

const userSchema = z.object({
  id: z.string().min(1),
  displayName: z.string().min(1),
  mail: nullableString,
  userPrincipalName: nullableString,
  mobilePhone: nullableString,
  businessPhones: z.array(z.string()).optional(),
  otherMails: z.array(z.string()).optional(),
});

const groupSchema = z.object({
  id: z.string().min(1),
  displayName: z.string().min(1),
  mail: nullableString,
  groupTypes: z.array(z.string()).optional(),
  mailEnabled: z.boolean().optional(),
  securityEnabled: z.boolean().optional(),
  membershipRule: nullableString,
  members: z.array(z.string()).optional(),
});

const directorySchema = z.object({
  tenant: z.object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _ only (at most 64)'),
    name: z.string().min(1),
    domains: z.array(z.string().regex(/^[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$/, 'must be a domain name')).min(1),
    /** Optional: the Entra ID tenant id, so its users can sign in to the add-in with Entra tokens. */
    entraTenantId: z.uuid('must be the Entra tenant id (a GUID)').nullable().optional(),
  }),
  users: z.array(userSchema),
  groups: z.array(groupSchema),
});

export type DirectoryDocument = z.infer<typeof directorySchema>;
export type DirectoryUserInput = z.infer<typeof userSchema>;
export type DirectoryGroupInput = z.infer<typeof groupSchema>;

export class DirectoryFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`directory file ${file}: ${problem}`);
  }
}

/** Checks what a schema cannot: unique ids and members that exist. Returns the first problem. */
export function findDirectoryProblem(doc: DirectoryDocument): string | null {
  const seen = new Set<string>();
  for (const entry of [...doc.users, ...doc.groups]) {
    if (seen.has(entry.id)) return `tenant ${doc.tenant.id}: id "${entry.id}" is used more than once`;
    seen.add(entry.id);
  }
  for (const group of doc.groups) {
    for (const member of group.members ?? []) {
      if (!seen.has(member)) return `tenant ${doc.tenant.id}: group "${group.id}" has unknown member "${member}"`;
    }
  }
  return null;
}

/** Parses a directory file: one directory object, or an array of them (one per tenant). */
export function parseDirectoryFile(file: string, text: string): DirectoryDocument[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DirectoryFileError(file, `not valid JSON (${(err as Error).message})`);
  }
  const result = (Array.isArray(json) ? z.array(directorySchema).min(1) : directorySchema).safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new DirectoryFileError(file, `${where}: ${issue.message}`);
  }
  const docs = Array.isArray(result.data) ? result.data : [result.data];
  const tenantIds = new Set<string>();
  for (const doc of docs) {
    if (tenantIds.has(doc.tenant.id)) throw new DirectoryFileError(file, `tenant "${doc.tenant.id}" appears twice`);
    tenantIds.add(doc.tenant.id);
    const problem = findDirectoryProblem(doc);
    if (problem) throw new DirectoryFileError(file, problem);
  }
  return docs;
}

export function readDirectoryFile(file: string): DirectoryDocument[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DirectoryFileError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseDirectoryFile(file, text);
}
