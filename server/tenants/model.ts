import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';

export interface TenantRecord {
  _id: string;
  name: string;
  domains: string[];
  directorySource: 'file' | 'graph';
  createdAt: Date;
  updatedAt: Date;
}

const tenantSchema = new Schema<TenantRecord>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    domains: { type: [String], default: [] },
    directorySource: { type: String, enum: ['file', 'graph'], default: 'file' },
  },
  { timestamps: true, versionKey: false },
);
tenantSchema.index({ domains: 1 });

export const tenantModel = (conn: Connection) => defineModel(conn, 'Tenant', tenantSchema);
export type TenantModel = ReturnType<typeof tenantModel>;
