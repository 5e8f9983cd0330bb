/**
 * Every audit category the server writes: the one list the audit filter offers (GET /api/audit/categories
 * and the admin page). Kept in the dependency-free server/shared/constants.ts so the page imports the
 * same values; AuditInput's type makes a new category fail to compile until it is added there.
 */
export { AUDIT_CATEGORIES, type AuditCategory } from '../shared/constants';
