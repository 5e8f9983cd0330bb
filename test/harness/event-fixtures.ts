/**
 * Continuity events as the tests create them: the body of POST /api/events for the demo directory's
 * Continuity Pilot group in UTC with no end, starting `startInMs` from now (negative: started already).
 * Anything else is given in `overrides`.
 */
export function eventBody(description: string, startInMs: number, overrides: Record<string, unknown> = {}) {
  return {
    description,
    affectedGroupId: 'g-continuity-pilot',
    timeZone: 'UTC',
    start: new Date(Date.now() + startInMs).toISOString(),
    end: null,
    ...overrides,
  };
}

/** The pane's start and end messages of the outage the pane and inbox tests start. */
export const OUTAGE_APP_NOTIFICATIONS = { startMessage: 'Mail goes through Lifeboat.', endMessage: 'Exchange is back.' };
