/**
 * The whole REST contract as one OpenAPI 3.1 document. Each capability registers its operations in its
 * own file; a new capability adds one line to CAPABILITIES.
 */
import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { registerAudit } from './audit';
import { registerContinuityInbox } from './continuity-inbox';
import { registerSentItems } from './sent-items';
import { registerDetections } from './detections';
import { registerThreatScan } from './threat-scan';
import { registerAuth } from './auth';
import { createContract, type Contract } from './contract';
import { registerDirectory } from './directory';
import { registerEvents } from './events';
import { registerMail } from './mail';
import { registerMonitor } from './monitor';
import { registerNotify } from './notify';
import { registerPlatform } from './platform';
import { registerProtection } from './protection';
import { registerQuarantine } from './quarantine';
import { registerReadiness } from './readiness';
import { registerTwoFactor } from './two-factor';
import { registerUsers } from './users';

const CAPABILITIES: Array<(c: Contract) => void> = [
  registerPlatform,
  registerAuth,
  registerTwoFactor,
  registerUsers,
  registerDirectory,
  registerAudit,
  registerEvents,
  registerMail,
  registerMonitor,
  registerNotify,
  registerReadiness,
  registerProtection,
  registerQuarantine,
  registerDetections,
  registerContinuityInbox,
  registerThreatScan,
  registerSentItems,
];

/** The registered contract (the coverage test reads `registered`). */
export function buildContract(): Contract {
  const contract = createContract();
  for (const register of CAPABILITIES) register(contract);
  return contract;
}

export function openApiDocument(options: { serverUrl?: string; version?: string } = {}) {
  const contract = buildContract();
  return new OpenApiGeneratorV31(contract.registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Lifeboat API',
      version: options.version ?? '0.1.0',
      description:
        'Email continuity for Microsoft 365. Errors are RFC 9457 problem details (application/problem+json); a 422 names each bad field in `errors`.',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
  });
}
