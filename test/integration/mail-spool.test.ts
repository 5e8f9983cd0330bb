import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../server/log';
import type { MailMessageRecord } from '../../server/mail/model';
import { createReceiver } from '../../server/mail/receiver';
import { mailModels } from '../../server/mail/model';
import { createMailService } from '../../server/mail/service';
import { openSpool, processIdentity, readSpoolFile } from '../../server/mail/spool';
import { useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { simpleMessage, smtpSession } from '../harness/smtp-peers';

const ctx = useLifeboat({
  directories: [
    {
      tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
      users: [{ id: 'u-ann', displayName: 'Ann', mail: 'ann@acme.test' }],
      groups: [],
    },
  ],
});
const quiet = createLogger('silent');
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-spool-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const spoolFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.spool'));

function record(n: number, raw: string): { record: MailMessageRecord; raw: Buffer } {
  return {
    record: {
      _id: `acme:spool-${n}`,
      tenantId: 'acme',
      messageId: `spool-${n}`,
      direction: 'inbound',
      receivedAt: new Date(Date.UTC(2026, 10, 22, 12, 0, n)),
      mailFrom: 'x@sender.example',
      recipients: [{ address: 'ann@acme.test', kind: 'user', id: 'u-ann' }],
      size: raw.length,
      chunks: 0,
      raw,
      remoteAddress: '127.0.0.1',
      userId: null,
    },
    raw: Buffer.from(raw, 'latin1'),
  };
}

/** Another process's mail service on the same database (what a restarted server is). */
const restarted = () =>
  createMailService({
    models: mailModels(ctx.conn),
    tenants: ctx.services.tenants,
    directory: ctx.services.directory,
    events: ctx.services.events.coverage,
    audit: ctx.services.audit,
    logger: quiet,
  });

describe('the mail spool', () => {
  it('reads back exactly what was appended, bytes and dates included', async () => {
    const dir = tempDir();
    const spool = openSpool({ dir, logger: quiet })!;
    const binary = 'Subject: bytes\r\n\r\n\u00e9\u00ff\u0000\u0080 end\r\n';
    await spool.append([record(1, binary), record(2, 'Subject: two\r\n\r\nbody\r\n')]);
    const [file] = spoolFiles(dir);
    const read = readSpoolFile(path.join(dir, file!));
    expect(read).toEqual([record(1, binary).record, record(2, 'Subject: two\r\n\r\nbody\r\n').record]);
    expect(read[0]!.receivedAt).toBeInstanceOf(Date);
    spool.close();
  });

  it('ignores a torn record at the end of a file (the process died writing it: it was never answered 250)', async () => {
    const dir = tempDir();
    const spool = openSpool({ dir, logger: quiet })!;
    await spool.append([record(1, 'Subject: one\r\n\r\n1\r\n'), record(2, 'Subject: two\r\n\r\n2\r\n')]);
    const file = path.join(dir, spoolFiles(dir)[0]!);
    appendFileSync(file, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 123, 34])); // a length promising more than is there
    // A process that died: the next one finds the two complete records.
    const next = openSpool({ dir, logger: quiet })!;
    expect(next.leftovers.map((r) => r.messageId)).toEqual(['spool-1', 'spool-2']);
    // A record whose bytes were damaged fails its checksum.
    const damaged = tempDir();
    const other = openSpool({ dir: damaged, logger: quiet })!;
    await other.append([record(3, 'Subject: three\r\n\r\n3\r\n')]);
    const damagedFile = path.join(damaged, spoolFiles(damaged)[0]!);
    const bytes = readFileSync(damagedFile);
    bytes[bytes.length - 3] ^= 0xff;
    writeFileSync(damagedFile, bytes);
    expect(readSpoolFile(damagedFile)).toEqual([]);
  });

  it('is not used while another live process holds it, and is taken over from one that is gone', async () => {
    const dir = tempDir();
    const other = spawn('sleep', ['30']);
    try {
      writeFileSync(path.join(dir, 'LOCK'), `${processIdentity(other.pid!)}\n`);
      expect(openSpool({ dir, logger: quiet })).toBeNull();
      // The same pid with another start time is another process (the pid was reused): not the holder.
      writeFileSync(path.join(dir, 'LOCK'), `${other.pid} 1\n`);
      expect(openSpool({ dir, logger: quiet })).not.toBeNull();
      writeFileSync(path.join(dir, 'LOCK'), `${processIdentity(other.pid!)}\n`);
    } finally {
      other.kill('SIGKILL');
    }
    // The holder is gone: the directory is taken over (a killed server's zombie does not count either).
    await new Promise((r) => other.once('exit', r));
    expect(openSpool({ dir, logger: quiet })).not.toBeNull();
  });

  it('removes a file once the database has everything in it, and keeps it otherwise', async () => {
    const dir = tempDir();
    const spool = openSpool({ dir, logger: quiet, segmentBytes: 1 })!; // every append closes the file before it
    const first = await spool.append([record(1, 'a')]);
    const second = await spool.append([record(2, 'b')]);
    expect(spoolFiles(dir)).toHaveLength(2);
    spool.settled(first, 1); // closed and settled: removed
    expect(spoolFiles(dir)).toHaveLength(1);
    spool.close(); // the open one still has an unsettled record: kept for the next start
    expect(spoolFiles(dir)).toHaveLength(1);
    spool.settled(second, 1);
    expect(spoolFiles(dir)).toHaveLength(0);

    // The open file goes as soon as the database has all of it and it is a second old, so a restart
    // replays little.
    const steady = tempDir();
    const open = openSpool({ dir: steady, logger: quiet })!;
    const ticket = await open.append([record(3, 'c')]);
    open.settled(ticket, 0); // nothing settled yet
    await new Promise((r) => setTimeout(r, 1100));
    expect(spoolFiles(steady)).toHaveLength(1);
    open.settled(ticket, 1);
    expect(spoolFiles(steady)).toHaveLength(0);
    await open.append([record(4, 'd')]); // the next append opens a new file
    expect(spoolFiles(steady)).toHaveLength(1);
    open.close();
  });

  it('a restarted server writes what a killed one left in the spool to the database and routes it', async () => {
    const dir = tempDir();
    // The killed process: appended and synced (so it answered 250), never written to the database.
    const killed = openSpool({ dir, logger: quiet })!;
    await killed.append([record(7, 'Subject: only in the spool\r\n\r\nbody\r\n')]);
    const mail = restarted();
    try {
      expect(await mail.useSpool(dir)).toBe(1);
      await eventually(async () => expect(mail.unrouted()).toBe(0));
      expect(await mail.models.messages.findById('acme:spool-7').lean()).toMatchObject({ tenantId: 'acme', mailFrom: 'x@sender.example' });
      expect(await mail.models.mailbox.findById('acme:u-ann:inbox:spool-7').lean()).toMatchObject({ subject: 'only in the spool' });
      expect(spoolFiles(dir)).toEqual([]);
    } finally {
      await mail.stop();
    }
  });

  it('answers 250 through the spool, then stores and routes the message in the database', async () => {
    const dir = tempDir();
    const mail = restarted();
    await mail.useSpool(dir);
    const receiver = createReceiver({ mail, logger: quiet });
    const port = await receiver.listen(0, '127.0.0.1');
    try {
      const s = await smtpSession(port);
      await s.command('EHLO sender.example');
      await s.command('MAIL FROM:<x@sender.example>');
      expect(await s.command('RCPT TO:<ann@acme.test>')).toMatch(/^250/);
      const reply = await s.data(simpleMessage({ from: 'x@sender.example', to: 'ann@acme.test', subject: 'through the spool', body: 'hello' }));
      await s.quit();
      const id = /queued as (\S+)/.exec(reply)?.[1];
      expect(id).toBeTruthy();
      // The 250 came after the message was in the spool file.
      expect(
        spoolFiles(dir)
          .flatMap((f) => readSpoolFile(path.join(dir, f)))
          .map((r) => r.messageId),
      ).toContain(id);
      await eventually(async () => expect(mail.unrouted()).toBe(0));
      expect(await mail.models.messages.findById(`acme:${id}`).lean()).toMatchObject({ tenantId: 'acme' });
      expect(await mail.models.mailbox.findById(`acme:u-ann:inbox:${id}`).lean()).toMatchObject({ subject: 'through the spool' });
    } finally {
      await receiver.close();
      await mail.stop();
    }
    // Everything reached the database: a clean stop leaves no spool file behind.
    expect(spoolFiles(dir)).toEqual([]);
  });
});
