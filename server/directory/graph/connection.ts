/**
 * The tenant's Entra connection: which Entra tenant and app registration Lifeboat reads the directory
 * with, and its credential (a client secret, or a certificate and its private key). The credential is
 * stored sealed and is never part of any view this service returns.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { claimByInsert } from '../../db/claims';
import type { FieldError } from '../../http/problem';
import type { SecretBox } from '../../secrets/seal';
import { entraTenantClaimModel, type CredentialType, type EntraConnectionModel, type EntraConnectionRecord } from './model';

export const DEFAULT_SYNC_INTERVAL_MINUTES = 15;

export interface ConnectionInput {
  entraTenantId: string;
  clientId: string;
  clientSecret?: string;
  certificate?: { certificatePem: string; privateKeyPem: string };
  syncIntervalMinutes?: number;
}

/** What an admin sees: everything but the credential itself. */
export interface ConnectionView {
  entraTenantId: string;
  clientId: string;
  credentialType: CredentialType;
  certificateThumbprint: string | null;
  syncIntervalMinutes: number;
  createdAt: string;
  updatedAt: string;
}

/** What the Graph client needs: the opened credential. Never leaves the server. */
export interface EntraCredentials {
  tenantId: string;
  entraTenantId: string;
  clientId: string;
  clientSecret?: string;
  certificate?: { thumbprintSha256: string; privateKey: string; certificatePem: string };
  /** Changes whenever the connection does (token caches are keyed by it). */
  version: string;
}

export class ConnectionInputError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  }
}

/** Entra did not give the app a token for the tenant with the credential given (`cause`: why). */
export class ConnectionProofError extends Error {
  constructor(
    readonly path: string,
    override readonly cause: unknown,
  ) {
    super(`${path}: Entra ID did not sign the application in`);
  }
}

/** The Entra tenant is already another Lifeboat tenant's (one Lifeboat tenant per Entra tenant). */
export class ConnectionConflictError extends Error {}

const toView = (r: EntraConnectionRecord): ConnectionView => ({
  entraTenantId: r.entraTenantId,
  clientId: r.clientId,
  credentialType: r.credentialType,
  certificateThumbprint: r.certificateThumbprint,
  syncIntervalMinutes: r.syncIntervalMinutes,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

/** A certificate and the key that belongs to it, or the field errors that say why not. */
function readCertificate(input: { certificatePem: string; privateKeyPem: string }): { thumbprintSha256: string; certificatePem: string } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(input.certificatePem);
  } catch {
    throw new ConnectionInputError([{ path: 'certificate.certificatePem', message: 'is not a PEM certificate' }]);
  }
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(input.privateKeyPem));
  } catch {
    throw new ConnectionInputError([{ path: 'certificate.privateKeyPem', message: 'is not a PEM private key' }]);
  }
  if (!matches) throw new ConnectionInputError([{ path: 'certificate.privateKeyPem', message: 'does not belong to the certificate' }]);
  return { thumbprintSha256: cert.fingerprint256.replace(/:/g, '').toLowerCase(), certificatePem: cert.toString() };
}

/** How long `isConnected` answers from memory. Changes made here apply at once; another process's within this time. */
export const CONNECTED_CACHE_MS = 5_000;

export function createConnectionService(deps: {
  connections: EntraConnectionModel;
  box: SecretBox;
  clock?: () => number;
  cacheMs?: number;
  /** Proves a new credential with Entra before it is stored (the Graph client's `prove`); absent: not proven. */
  prove?: (creds: EntraCredentials) => Promise<{ tid: string | null }>;
  /** The Lifeboat tenant a directory file gives this Entra tenant id, if any (it is that tenant's). */
  fileTenantOf?: (entraTenantId: string) => Promise<string | null>;
}) {
  const { connections, box } = deps;
  const claims = entraTenantClaimModel(connections.db);
  const clock = deps.clock ?? (() => performance.now());
  const cacheMs = deps.cacheMs ?? CONNECTED_CACHE_MS;
  const sealContext = (tenantId: string) => `entra-connection:${tenantId}`;
  /** Per tenant: connected or not, and until when that answer is reused (every directory call asks). */
  const connectedCache = new Map<string, { connected: boolean; until: number }>();
  const listeners: ((tenantId: string) => void)[] = [];
  const changed = (tenantId: string) => {
    connectedCache.delete(tenantId);
    for (const listener of listeners) listener(tenantId);
  };

  /**
   * Claims the Entra tenant (under each name it is known by) for this Lifeboat tenant, or throws
   * ConnectionConflictError when another has it: by a claim, by its directory file, or by a
   * connection stored before claims existed.
   */
  async function claimEntraTenant(tenantId: string, keys: string[]): Promise<void> {
    const taken: string[] = [];
    try {
      for (const key of keys) {
        const fileTenant = await deps.fileTenantOf?.(key);
        const legacy = await connections.exists({ entraTenantId: key, _id: { $ne: tenantId } });
        if ((fileTenant && fileTenant !== tenantId) || legacy) throw new ConnectionConflictError(key);
        if (await claimByInsert(claims, { _id: key, tenantId })) taken.push(key);
        else if ((await claims.findById(key).lean())?.tenantId !== tenantId) throw new ConnectionConflictError(key);
      }
    } catch (err) {
      if (taken.length) await claims.deleteMany({ _id: { $in: taken }, tenantId });
      throw err;
    }
  }

  return {
    async get(tenantId: string): Promise<ConnectionView | null> {
      const record = await connections.findById(tenantId).lean();
      return record ? toView(record) : null;
    },

    /** The Lifeboat tenant connected to this Entra tenant (a user token's `tid`), if any. */
    async tenantOfEntraTenant(entraTenantId: string): Promise<string | null> {
      const claim = await claims.findById(entraTenantId.toLowerCase()).lean();
      if (claim) return claim.tenantId;
      // A connection stored before claims existed counts only when it is the one for this Entra tenant.
      const records = await connections.find({ entraTenantId: entraTenantId.toLowerCase() }, { _id: 1 }).limit(2).lean();
      return records.length === 1 ? records[0]!._id : null;
    },

    /** Told after this process created, changed or removed a connection (wired to `entra:connection-changed`). */
    onChanged(listener: (tenantId: string) => void): void {
      listeners.push(listener);
    },
    /** Another node changed the tenant's connection: whether it is connected is read again. */
    forget(tenantId: string): void {
      connectedCache.delete(tenantId);
    },

    async isConnected(tenantId: string): Promise<boolean> {
      const t = clock();
      const cached = connectedCache.get(tenantId);
      if (cached && cached.until > t) return cached.connected;
      const connected = (await connections.countDocuments({ _id: tenantId })) > 0;
      connectedCache.set(tenantId, { connected, until: t + cacheMs });
      return connected;
    },

    async listConnected(): Promise<Array<{ tenantId: string; syncIntervalMinutes: number }>> {
      const records = await connections.find({}, { _id: 1, syncIntervalMinutes: 1 }).lean();
      return records.map((r) => ({ tenantId: r._id, syncIntervalMinutes: r.syncIntervalMinutes }));
    },

    /**
     * Creates or changes the connection. Without a new credential the stored one is kept (so an admin
     * can change the interval without re-entering the secret); a new connection needs one.
     */
    async set(tenantId: string, input: ConnectionInput): Promise<{ before: ConnectionView | null; after: ConnectionView; credentialChanged: boolean }> {
      const existing = await connections.findById(tenantId).lean();
      if (input.clientSecret !== undefined && input.certificate !== undefined) {
        throw new ConnectionInputError([{ path: 'clientSecret', message: 'give a client secret or a certificate, not both' }]);
      }
      const entraTenantId = input.entraTenantId.toLowerCase();
      const clientId = input.clientId.toLowerCase();
      const credentialChanged = input.clientSecret !== undefined || input.certificate !== undefined;
      if (!existing && !credentialChanged) {
        throw new ConnectionInputError([{ path: 'clientSecret', message: 'a new connection needs a client secret or a certificate' }]);
      }
      // The stored credential is never sent to another Entra tenant or used as another application.
      if (existing && !credentialChanged && (existing.entraTenantId !== entraTenantId || existing.clientId !== clientId)) {
        throw new ConnectionInputError([
          { path: 'clientSecret', message: 'enter the client secret (or certificate) again when the Entra tenant or the application changes' },
        ]);
      }
      const update: Partial<EntraConnectionRecord> = {
        entraTenantId,
        clientId,
        syncIntervalMinutes: input.syncIntervalMinutes ?? existing?.syncIntervalMinutes ?? DEFAULT_SYNC_INTERVAL_MINUTES,
      };
      const proof: EntraCredentials = { tenantId, entraTenantId, clientId, version: 'proof' };
      if (input.clientSecret !== undefined) {
        proof.clientSecret = input.clientSecret;
        Object.assign(update, {
          credentialType: 'secret',
          sealedCredential: box.seal(input.clientSecret, sealContext(tenantId)),
          certificateThumbprint: null,
          certificatePem: null,
        });
      } else if (input.certificate !== undefined) {
        const cert = readCertificate(input.certificate);
        proof.certificate = { ...cert, privateKey: input.certificate.privateKeyPem };
        Object.assign(update, {
          credentialType: 'certificate',
          sealedCredential: box.seal(input.certificate.privateKeyPem, sealContext(tenantId)),
          certificateThumbprint: cert.thumbprintSha256,
          certificatePem: cert.certificatePem,
        });
      }
      // Proven before anything else is said about the Entra tenant: only who holds a working
      // credential for it learns whether another organisation has connected it.
      let tid: string | null = null;
      if (credentialChanged && deps.prove) {
        try {
          ({ tid } = await deps.prove(proof));
        } catch (err) {
          throw new ConnectionProofError(input.certificate ? 'certificate' : 'clientSecret', err);
        }
      }
      const keys = [...new Set([entraTenantId, tid].filter((k): k is string => Boolean(k)))];
      await claimEntraTenant(tenantId, keys);
      const after = await connections.findOneAndUpdate({ _id: tenantId }, { $set: update }, { upsert: true, returnDocument: 'after' }).lean();
      // A new credential (the only way to change the Entra tenant): the one connected before, if another, is free again.
      if (credentialChanged) await claims.deleteMany({ tenantId, _id: { $nin: keys } });
      changed(tenantId);
      return { before: existing ? toView(existing) : null, after: toView(after!), credentialChanged };
    },

    async remove(tenantId: string): Promise<ConnectionView | null> {
      const existing = await connections.findById(tenantId).lean();
      if (existing) await connections.deleteOne({ _id: tenantId });
      await claims.deleteMany({ tenantId });
      changed(tenantId);
      return existing ? toView(existing) : null;
    },

    /** The opened credential, for the Graph client only. */
    async credentials(tenantId: string): Promise<EntraCredentials | null> {
      const r = await connections.findById(tenantId).lean();
      if (!r) return null;
      const opened = box.open(r.sealedCredential, sealContext(tenantId));
      return {
        tenantId,
        entraTenantId: r.entraTenantId,
        clientId: r.clientId,
        version: `${r.updatedAt.getTime()}:${r.credentialType}:${r.certificateThumbprint ?? ''}`,
        ...(r.credentialType === 'secret'
          ? { clientSecret: opened }
          : { certificate: { thumbprintSha256: r.certificateThumbprint!, privateKey: opened, certificatePem: r.certificatePem! } }),
      };
    },
  };
}
export type ConnectionService = ReturnType<typeof createConnectionService>;
