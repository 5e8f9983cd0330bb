/**
 * `npm run admin:password -- <admin email>`: a new random password for an administrator who lost
 * theirs (printed once, only its hash stored; their sessions end). Uses the same configuration as
 * `npm start` (MONGODB_URI, or the embedded database under LIFEBOAT_DATA_DIR: stop the server first,
 * the embedded database has one user at a time). Recorded in the audit log.
 */
import path from 'node:path';
import { ConfigError, loadConfig } from '../server/config';
import { openConnection } from '../server/db/connection';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../server/db/embedded/ferretdb';
import { adminModel, sessionModel } from '../server/auth/model';
import { generatePassword, hashPassword } from '../server/auth/password';
import { auditModel } from '../server/audit/model';
import { createAuditService } from '../server/audit/service';

async function main() {
  const email = process.argv[2]?.trim().toLowerCase();
  if (!email || !email.includes('@')) {
    console.error('Usage: npm run admin:password -- <admin email>');
    process.exit(2);
  }
  const config = loadConfig();
  let embedded: EmbeddedDatabase | null = null;
  const uri = config.mongodbUri ?? (embedded = await startEmbeddedDatabase({ dataDir: path.join(config.dataDir, 'db'), log: () => {} })).uri;
  const conn = await openConnection(uri);
  try {
    const admins = adminModel(conn);
    const found = await admins.find({ email }).lean();
    if (found.length !== 1) {
      console.error(found.length ? `${email} is an administrator of several tenants: not changed.` : `No administrator ${email}.`);
      process.exitCode = 1;
      return;
    }
    const admin = found[0]!;
    const password = generatePassword();
    await admins.updateOne({ _id: admin._id }, { $set: { passwordHash: await hashPassword(password) } });
    await sessionModel(conn).deleteMany({ adminId: admin._id });
    await createAuditService(auditModel(conn)).record({
      tenantId: admin.tenantId,
      category: 'security',
      action: 'admin.passwordReset',
      actor: { type: 'system', id: null, email: null },
      target: { type: 'admin', id: String(admin._id), label: email },
      after: { via: 'npm run admin:password' },
    });
    console.log(`New password for ${email}: ${password}\n(shown once; only its hash is stored; their sessions were ended)`);
  } finally {
    await conn.close();
    await embedded?.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? `configuration error in ${err.message}` : err);
  process.exit(1);
});
