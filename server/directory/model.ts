import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';
import type { GroupKind } from './classify';

/**
 * Directory documents are keyed `<tenantId>:<id>`: the embedded database (FerretDB on SQLite) only
 * uses an index for a filter on `_id` alone, so point look-ups and import upserts go by `_id`.
 */
export const directoryKey = (tenantId: string, id: string) => `${tenantId}:${id}`;

export interface DirectoryUserRecord {
  _id: string;
  tenantId: string;
  id: string;
  displayName: string;
  mail: string | null;
  userPrincipalName: string | null;
  mobilePhone: string | null;
  businessPhones: string[];
  otherMails: string[];
  /** Every address the user receives mail at (mail, `smtp:` proxy addresses), lower-case. */
  addresses: string[];
}

/** A user as the rest of Lifeboat sees it (the storage key stays inside the directory). */
export type DirectoryUser = Omit<DirectoryUserRecord, '_id'>;

export interface DirectoryGroupRecord {
  _id: string;
  tenantId: string;
  id: string;
  displayName: string;
  mail: string | null;
  groupTypes: string[];
  mailEnabled: boolean;
  securityEnabled: boolean;
  membershipRule: string | null;
  kind: GroupKind;
  /** Direct members: user ids and group ids. */
  members: string[];
}

const userSchema = new Schema<DirectoryUserRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    id: { type: String, required: true },
    displayName: { type: String, required: true },
    mail: { type: String, default: null },
    userPrincipalName: { type: String, default: null },
    mobilePhone: { type: String, default: null },
    businessPhones: { type: [String], default: [] },
    otherMails: { type: [String], default: [] },
    addresses: { type: [String], default: [] },
  },
  { versionKey: false },
);
userSchema.index({ tenantId: 1, id: 1 }, { unique: true });

const groupSchema = new Schema<DirectoryGroupRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    id: { type: String, required: true },
    displayName: { type: String, required: true },
    mail: { type: String, default: null },
    groupTypes: { type: [String], default: [] },
    mailEnabled: { type: Boolean, default: false },
    securityEnabled: { type: Boolean, default: false },
    membershipRule: { type: String, default: null },
    kind: { type: String, required: true },
    members: { type: [String], default: [] },
  },
  { versionKey: false },
);
groupSchema.index({ tenantId: 1, id: 1 }, { unique: true });
groupSchema.index({ tenantId: 1, members: 1 });

export const directoryUserModel = (conn: Connection) => defineModel(conn, 'DirectoryUser', userSchema);
export const directoryGroupModel = (conn: Connection) => defineModel(conn, 'DirectoryGroup', groupSchema);
export type DirectoryUserModel = ReturnType<typeof directoryUserModel>;
export type DirectoryGroupModel = ReturnType<typeof directoryGroupModel>;
