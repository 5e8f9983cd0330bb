/**
 * The one e-mail address and host name grammar of Lifeboat (wildduck's normalizeAddress idea):
 * every route, config check and service validates and normalises addresses here. The rules live in
 * ./address-grammar (no imports, shared with the add-in); this adds the zod schema routes use.
 */
import { z } from 'zod';
import { EMAIL_ADDRESS, MAX_ADDRESS_LENGTH } from './address-grammar';

export * from './address-grammar';

/** zod: a trimmed e-mail address (case kept; add .transform(normalizeAddress) where it is stored). */
export const emailAddress = () => z.string().trim().max(MAX_ADDRESS_LENGTH).regex(EMAIL_ADDRESS, 'must be an email address');
