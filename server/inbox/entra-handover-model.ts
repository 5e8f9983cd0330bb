/**
 * Hand-overs of finished Microsoft sign-ins that the inbox has taken: one record per hand-over,
 * inserted under its `_id` when taken, so a copied hand-over cookie gives its token once, on any node.
 * Records older than a hand-over can live are swept now and then by the taker (FerretDB v1 has no TTL).
 */
import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';

export interface HandoverRecord {
  _id: string;
  at: Date;
}

const handoverSchema = new Schema<HandoverRecord>({ _id: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });

export const handoverModel = (conn: Connection) => defineModel(conn, 'InboxSignInHandover', handoverSchema);
export type HandoverModel = ReturnType<typeof handoverModel>;
