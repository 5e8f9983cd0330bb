/** Who-and-where of a request, carried into every audit entry it causes (routes build it with requestContext). */
export interface AuditContext {
  ip: string | null;
  requestId: string | null;
}

/** For work no request caused (scheduler, monitor, sweeps). */
export const SYSTEM_CONTEXT: AuditContext = Object.freeze({ ip: null, requestId: null });
