/**
 * `npm run validate`: checks the Outlook manifest (the development file and the production variant
 * for LIFEBOAT_PUBLIC_URL) the way Office add-in developers expect — with office-addin-manifest, which
 * asks Microsoft's validation service — and, when that service cannot be reached, against the
 * [MS-OWEMXML] XSDs offline with xmllint (LIFEBOAT_MANIFEST_SCHEMAS names their directory). It always
 * prints which validator ran; with neither available it fails and says what to provide.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEV_MANIFEST, REPO_ROOT, renderManifest } from './build-manifest';
import { manifestPublicUrl, manifestSchemasDir, toolchainEnv } from '../../server/config';

const UNREACHABLE = /Unable to contact the manifest validation service/i;

interface Outcome {
  ok: boolean;
  output: string;
}

function viaService(file: string): Outcome | 'unreachable' {
  const bin = path.join(REPO_ROOT, 'node_modules', '.bin', 'office-addin-manifest');
  // OFFICE_ADDIN_USAGE_DATA_OPT_OUT keeps the tool from asking about telemetry in CI.
  const run = spawnSync(bin, ['validate', file], { encoding: 'utf8', env: toolchainEnv({ OFFICE_ADDIN_USAGE_DATA_OPT_OUT: 'true' }) });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  if (run.error || UNREACHABLE.test(output)) return 'unreachable';
  return { ok: run.status === 0, output };
}

function viaXsd(file: string, schemas: string): Outcome {
  const run = spawnSync('xmllint', ['--noout', '--schema', path.join(schemas, 'OfficeAppManifestV1_1.xsd'), file], { encoding: 'utf8' });
  if (run.error) return { ok: false, output: `xmllint is missing (apt-get install libxml2-utils): ${run.error.message}` };
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

function main(): number {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-validate-'));
  const publicUrl = manifestPublicUrl() || 'https://lifeboat.contoso.example/';
  const production = path.join(tmp, 'manifest.production.xml');
  writeFileSync(production, renderManifest(publicUrl, readFileSync(DEV_MANIFEST, 'utf8')));
  const schemas = manifestSchemasDir();
  let failed = false;
  for (const [label, file] of [
    ['development manifest (manifest.xml)', DEV_MANIFEST],
    [`production manifest (for ${publicUrl})`, production],
  ] as const) {
    const service = viaService(file);
    if (service !== 'unreachable') {
      console.log(`validator: office-addin-manifest (Microsoft's validation service) — ${label}: ${service.ok ? 'valid' : 'INVALID'}`);
      if (!service.ok) console.log(service.output);
      failed ||= !service.ok;
      continue;
    }
    if (!schemas || !existsSync(path.join(schemas, 'OfficeAppManifestV1_1.xsd'))) {
      console.error(
        `validator: none — Microsoft's validation service is unreachable and no offline schemas were given ` +
          `(set LIFEBOAT_MANIFEST_SCHEMAS to a directory holding OfficeAppManifestV1_1.xsd) — ${label}: NOT CHECKED`,
      );
      failed = true;
      continue;
    }
    const xsd = viaXsd(file, schemas);
    console.log(
      `validator: xmllint against the offline XSDs in ${schemas} (NOTE: Microsoft's validation service is unreachable, so ` +
        `only the schema was checked, not the store rules) — ${label}: ${xsd.ok ? 'valid' : 'INVALID'}`,
    );
    if (!xsd.ok) console.log(xsd.output);
    failed ||= !xsd.ok;
  }
  return failed ? 1 : 0;
}

process.exitCode = main();
