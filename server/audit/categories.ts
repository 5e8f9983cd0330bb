/**
 * Every audit category the server writes: the one list the audit filter offers. A dependency-free
 * module so the admin page can import the values too; AuditInput's type makes a new category
 * fail to compile until it is added here.
 */
export const AUDIT_CATEGORIES = ['configuration', 'continuity', 'directory', 'mail', 'monitor', 'notifications', 'security'] as const;
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];
