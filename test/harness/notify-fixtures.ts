/** Directories with phones and alternate addresses for the notification tests, and their SMS channel. */
import type { DirectoryDocument } from '../../server/directory/file-provider';
import type { SmsGateway } from '../stand-ins/sms-gateway';
import { tenantDirectory } from './context';

/** The Twilio SMS channel (PUT /api/notify/settings `sms`) sending through the SMS gateway stand-in. */
export const twilioThrough = (gateway: SmsGateway) => ({
  provider: 'twilio',
  baseUrl: gateway.url,
  accountSid: gateway.credentials.accountSid,
  authToken: gateway.credentials.authToken,
  from: '+15550009999',
});

export const phoneOf = (tenant: string, i: number) => `+1${tenant === 'alpha' ? 555 : 666}0100${i}`;

/**
 * Five users u1..u5 with a mobile, a business phone and an alternate address; group `sms` holds u1
 * and the nested group `nested` (u2, u3, u5); u4 is in group `other` only.
 */
export function phoneDirectory(id: string): DirectoryDocument {
  const users = [1, 2, 3, 4, 5].map((i) => ({
    id: `${id}-u${i}`,
    displayName: `${id} User ${i}`,
    mail: `u${i}@${id}.test`,
    userPrincipalName: `u${i}@${id}.test`,
    mobilePhone: phoneOf(id, i),
    businessPhones: [`+1 (777) 020-00${i}${i}`],
    otherMails: [`u${i}.home@example.org`],
  }));
  return tenantDirectory(id, {
    users,
    groups: [
      { id: `${id}-sms`, displayName: `${id} SMS`, mail: null, securityEnabled: true, members: [`${id}-u1`, `${id}-nested`] },
      { id: `${id}-nested`, displayName: `${id} Nested`, mail: null, securityEnabled: true, members: [`${id}-u2`, `${id}-u3`, `${id}-u5`] },
      { id: `${id}-other`, displayName: `${id} Other`, mail: null, securityEnabled: true, members: [`${id}-u4`] },
      { id: `${id}-all`, displayName: `${id} All`, mail: null, securityEnabled: true, members: users.map((u) => u.id) },
    ],
  });
}
