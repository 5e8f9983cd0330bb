/**
 * The Outlook manifest, development and production variants, validated with xmllint against the
 * [MS-OWEMXML] schemas in LIFEBOAT_MANIFEST_SCHEMAS (.ci/run sets it when its checkout has them).
 * Without it (a user's fresh clone) the schema checks are skipped with a note; the rest still runs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEV_MANIFEST, ManifestUrlError, REPO_ROOT, SEND_HANDLER, manifestBaseUrl, renderManifest } from '../../addin/manifest/build-manifest';
import { HANDLER_NAME } from '../../addin/commands/onsend';
import { PANE_COMMAND_ID } from '../../addin/lib/send-guard';

const SCHEMAS = process.env.LIFEBOAT_MANIFEST_SCHEMAS || null;
const SCHEMA = SCHEMAS ? path.join(SCHEMAS, 'OfficeAppManifestV1_1.xsd') : '';
/** The schema checks: run with the offline XSDs, skipped (and said so) without them. */
const withSchemas = SCHEMAS ? it : it.skip;
if (!SCHEMAS) {
  console.log(
    'manifest.test: LIFEBOAT_MANIFEST_SCHEMAS is not set, so the XSD validation tests are skipped ' +
      '(npm run validate checks the manifest with office-addin-manifest, or offline with the XSDs).',
  );
} else console.log(`manifest.test: validator xmllint against the offline XSDs in ${SCHEMAS}`);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-manifest-'));

function validate(text: string, name: string) {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  const run = spawnSync('xmllint', ['--noout', '--schema', SCHEMA, file], { encoding: 'utf8' });
  if (run.error) throw new Error(`xmllint is missing (apt-get install libxml2-utils): ${run.error.message}`);
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

const dev = readFileSync(DEV_MANIFEST, 'utf8');
const prod = renderManifest('https://lifeboat.contoso.example/');

describe('manifest.xml', () => {
  withSchemas('the development variant validates against the schema', () => {
    expect(validate(dev, 'dev.xml')).toMatchObject({ code: 0 });
  });

  withSchemas('the production variant validates and points only at LIFEBOAT_PUBLIC_URL', () => {
    expect(validate(prod, 'prod.xml')).toMatchObject({ code: 0 });
    expect(prod).not.toMatch(/localhost/);
    expect(prod).toContain('<SourceLocation DefaultValue="https://lifeboat.contoso.example/addin/taskpane.html"/>');
    expect(prod).toContain('<SupportUrl DefaultValue="https://lifeboat.contoso.example/addin/support.html"/>');
    expect(renderManifest('https://example.org/lifeboat')).toContain('"https://example.org/lifeboat/addin/taskpane.html"');
  });

  withSchemas('the validation really checks: a manifest without <Id> is refused', () => {
    expect(validate(dev.replace(/<Id>[^<]*<\/Id>/, ''), 'broken.xml').code).toBe(3);
  });

  it('is a mail add-in with a pinnable task-pane button on read and compose, installable from Mailbox 1.1', () => {
    expect(dev).toContain('xsi:type="MailApp"');
    expect(dev).toMatch(/<Set Name="Mailbox" MinVersion="1\.1"\/>/);
    const minimums = [...dev.matchAll(/DefaultMinVersion="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(Math.min(...minimums)).toBeLessThanOrEqual(1.5);
    for (const surface of ['MessageReadCommandSurface', 'MessageComposeCommandSurface']) {
      expect(dev.split(`xsi:type="${surface}"`)).toHaveLength(3); // in V1_0 and in V1_1
    }
    const v11 = dev.slice(dev.indexOf('xsi:type="VersionOverridesV1_1"'));
    const v10 = dev.slice(0, dev.indexOf('xsi:type="VersionOverridesV1_1"'));
    expect(v11.match(/<SupportsPinning>true<\/SupportsPinning>/g)).toHaveLength(2);
    expect(v10).not.toContain('SupportsPinning');
    expect(dev.match(/xsi:type="ShowTaskpane"/g)).toHaveLength(4);
  });

  it('every icon it names exists in addin/assets (and is a PNG)', () => {
    const icons = [...new Set([...dev.matchAll(/\/addin\/assets\/(icon-\d+\.png)/g)].map((m) => m[1]))];
    expect(icons.length).toBeGreaterThanOrEqual(5);
    for (const icon of icons) {
      const bytes = readFileSync(path.join(REPO_ROOT, 'addin', 'assets', icon));
      expect(bytes.subarray(1, 4).toString('ascii')).toBe('PNG');
      const size = Number(/icon-(\d+)/.exec(icon)![1]);
      expect(bytes.readUInt32BE(16)).toBe(size);
    }
  });

  it('refuses a public URL Outlook could not load', () => {
    expect(() => manifestBaseUrl('http://lifeboat.contoso.example')).toThrow(ManifestUrlError);
    expect(() => manifestBaseUrl('not a url')).toThrow(/absolute https/);
    expect(() => manifestBaseUrl('https://x.example/?a=1')).toThrow(/query/);
    expect(manifestBaseUrl('https://x.example/a/')).toBe('https://x.example/a');
  });

  it('npm run build:manifest writes the production manifest from LIFEBOAT_PUBLIC_URL, and fails clearly on http', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-manifest-cli-'));
    const tsx = path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const script = path.join(REPO_ROOT, 'addin', 'manifest', 'build-manifest.ts');
    const bad = spawnSync(process.execPath, [tsx, script], { env: { ...process.env, LIFEBOAT_PUBLIC_URL: 'http://lifeboat.example' }, encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/LIFEBOAT_PUBLIC_URL must be an https:\/\/ URL/);
    const target = path.join(out, 'manifest.xml');
    execFileSync(process.execPath, [tsx, script, '--out', target], { env: { ...process.env, LIFEBOAT_PUBLIC_URL: 'https://mail-continuity.example' } });
    const written = readFileSync(target, 'utf8');
    expect(written).toContain('"https://mail-continuity.example/addin/taskpane.html"');
    if (SCHEMAS) expect(validate(written, 'cli.xml').code).toBe(0);
  });
});

describe('manifest.xml: the OnMessageSend handler (Smart Alerts)', () => {
  const v11 = dev.slice(dev.indexOf('xsi:type="VersionOverridesV1_1"'));

  it('declares OnMessageSend with SendMode SoftBlock in the V1_1 block, on the event runtime', () => {
    expect(v11).toContain('<LaunchEvent Type="OnMessageSend" FunctionName="onMessageSendHandler" SendMode="SoftBlock"/>');
    expect(dev.slice(0, dev.indexOf('xsi:type="VersionOverridesV1_1"'))).not.toContain('LaunchEvent');
    expect(v11).toMatch(/<Runtime resid="WebViewRuntime.Url">\s*<Override type="javascript" resid="JSRuntime.Url"\/>\s*<\/Runtime>/);
    expect(v11).toMatch(/<ExtensionPoint xsi:type="LaunchEvent">[\s\S]*<SourceLocation resid="WebViewRuntime.Url"\/>\s*<\/ExtensionPoint>/);
    expect(v11).toContain('<bt:Url id="WebViewRuntime.Url" DefaultValue="https://localhost:3000/addin/commands.html"/>');
    expect(v11).toContain('<bt:Url id="JSRuntime.Url" DefaultValue="https://localhost:3000/addin/launchevent.js"/>');
    expect(prod).toContain('<bt:Url id="JSRuntime.Url" DefaultValue="https://lifeboat.contoso.example/addin/launchevent.js"/>');
  });

  it('the handler name is the one the commands page registers, and the Smart Alerts button opens the compose pane', () => {
    expect(SEND_HANDLER.functionName).toBe(HANDLER_NAME);
    expect(dev).toContain(`<Control xsi:type="Button" id="${PANE_COMMAND_ID}">`);
  });

  withSchemas('the schema checks the send mode: an unknown SendMode is refused', () => {
    expect(validate(dev.replace('SendMode="SoftBlock"', 'SendMode="Sometimes"'), 'bad-sendmode.xml').code).toBe(3);
  });

  it('a manifest without the launch event is not built', () => {
    expect(() => renderManifest('https://x.example', dev.replace(/<LaunchEvent Type="OnMessageSend"[^>]*\/>/, ''))).toThrow(/must declare <LaunchEvent/);
  });
});
