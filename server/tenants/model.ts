import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';

export interface TenantRecord {
  _id: string;
  name: string;
  domains: string[];
  directorySource: 'file' | 'graph';
  /** The tenant's Entra ID (directory) id: its users' tokens carry it as `tid`. */
  entraTenantId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const tenantSchema = new Schema<TenantRecord>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    domains: { type: [String], default: [] },
    directorySource: { type: String, enum: ['file', 'graph'], default: 'file' },
    entraTenantId: { type: String, default: null },
  },
  { timestamps: true, versionKey: false },
);
tenantSchema.index({ domains: 1 });
tenantSchema.index({ entraTenantId: 1 });

export const tenantModel = (conn: Connection) => defineModel(conn, 'Tenant', tenantSchema);
export type TenantModel = ReturnType<typeof tenantModel>;
