/** What the Graph provider keeps per tenant: the Entra connection, the sync state and the sync lease. */
import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../../db/connection';

export type CredentialType = 'secret' | 'certificate';

export interface EntraConnectionRecord {
  _id: string; // Lifeboat tenant id
  entraTenantId: string;
  clientId: string;
  credentialType: CredentialType;
  /** The client secret, or the certificate's private key (PEM), sealed with a key derived from LIFEBOAT_SECRET. */
  sealedCredential: string;
  certificateThumbprint: string | null;
  certificatePem: string | null;
  syncIntervalMinutes: number;
  createdAt: Date;
  updatedAt: Date;
}

const connectionSchema = new Schema<EntraConnectionRecord>(
  {
    _id: { type: String, required: true },
    entraTenantId: { type: String, required: true },
    clientId: { type: String, required: true },
    credentialType: { type: String, enum: ['secret', 'certificate'], required: true },
    sealedCredential: { type: String, required: true },
    certificateThumbprint: { type: String, default: null },
    certificatePem: { type: String, default: null },
    syncIntervalMinutes: { type: Number, required: true },
  },
  { timestamps: true, versionKey: false },
);

/**
 * One Lifeboat tenant per Entra tenant: `_id` is the Entra tenant id (or the domain it was connected
 * by), claimed by insert under the unique `_id` when a tenant connects it, so a second tenant cannot.
 */
export interface EntraTenantClaimRecord {
  _id: string;
  tenantId: string;
}

const claimSchema = new Schema<EntraTenantClaimRecord>(
  { _id: { type: String, required: true }, tenantId: { type: String, required: true } },
  { versionKey: false },
);

export type SyncRunState = 'idle' | 'running' | 'succeeded' | 'failed';

export interface SyncStateRecord {
  _id: string; // tenant id
  state: SyncRunState;
  mode: 'full' | 'incremental' | null;
  phase: string | null;
  pages: number;
  groups: number;
  users: number;
  throttled: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  /** The generation (collections) of the snapshot and expansions of the last successful sync. */
  generation: string | null;
  expansionGeneration: string | null;
  /**
   * The overlays of expansions rewritten by incremental syncs since the generation was written,
   * oldest first, each holding only what its sync rewrote (readers merge them, the later wins); the
   * last is also `overlayGeneration` (a state written before chains names only that one, which then
   * held everything). And how many groups they overlay together.
   */
  overlayGeneration?: string | null;
  overlayChain?: string[];
  overlayGroups?: number;
  usersDeltaLink: string | null;
  groupsDeltaLink: string | null;
  /** How many incremental syncs were appended to the snapshot since the last full sync. */
  deltaChunks: number;
  lastSuccessfulSync: Date | null;
  lastFullSync: Date | null;
  /**
   * The synced directory's current generation and overlay (../synced-store.ts), switched with the
   * expansions; and how many entries the overlay holds.
   */
  directoryGeneration?: string | null;
  directoryOverlay?: string | null;
  directoryOverlayEntries?: number;
}

const syncStateSchema = new Schema<SyncStateRecord>(
  {
    _id: { type: String, required: true },
    state: { type: String, default: 'idle' },
    mode: { type: String, default: null },
    phase: { type: String, default: null },
    pages: { type: Number, default: 0 },
    groups: { type: Number, default: 0 },
    users: { type: Number, default: 0 },
    throttled: { type: Number, default: 0 },
    startedAt: { type: Date, default: null },
    finishedAt: { type: Date, default: null },
    error: { type: String, default: null },
    generation: { type: String, default: null },
    expansionGeneration: { type: String, default: null },
    overlayGeneration: { type: String, default: null },
    overlayChain: { type: [String], default: [] },
    overlayGroups: { type: Number, default: 0 },
    usersDeltaLink: { type: String, default: null },
    groupsDeltaLink: { type: String, default: null },
    deltaChunks: { type: Number, default: 0 },
    lastSuccessfulSync: { type: Date, default: null },
    lastFullSync: { type: Date, default: null },
    directoryGeneration: { type: String, default: null },
    directoryOverlay: { type: String, default: null },
    directoryOverlayEntries: { type: Number, default: 0 },
  },
  { versionKey: false },
);

/** The overlays of expansions a sync state names, oldest first. */
export const overlayChainOf = (state: Pick<SyncStateRecord, 'overlayChain' | 'overlayGeneration'> | null | undefined): string[] =>
  state?.overlayChain?.length ? state.overlayChain : state?.overlayGeneration ? [state.overlayGeneration] : [];

/** One sync per tenant at a time, across processes: whoever inserts this document (unique _id) holds it. */
export interface SyncLeaseRecord {
  _id: string; // tenant id
  owner: string;
  expiresAt: Date;
}

const leaseSchema = new Schema<SyncLeaseRecord>(
  { _id: { type: String, required: true }, owner: { type: String, required: true }, expiresAt: { type: Date, required: true } },
  { versionKey: false },
);

export const entraConnectionModel = (conn: Connection) => defineModel(conn, 'EntraConnection', connectionSchema);
export const entraTenantClaimModel = (conn: Connection) => defineModel(conn, 'EntraTenantClaim', claimSchema);
export const syncStateModel = (conn: Connection) => defineModel(conn, 'DirectorySyncState', syncStateSchema);
export const syncLeaseModel = (conn: Connection) => defineModel(conn, 'DirectorySyncLease', leaseSchema);
export type EntraConnectionModel = ReturnType<typeof entraConnectionModel>;
export type EntraTenantClaimModel = ReturnType<typeof entraTenantClaimModel>;
export type SyncStateModel = ReturnType<typeof syncStateModel>;
export type SyncLeaseModel = ReturnType<typeof syncLeaseModel>;
