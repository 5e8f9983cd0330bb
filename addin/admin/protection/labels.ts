/** What the Protection section calls modes, verdicts and actions, in the admin's words. */
import type { ProtectionMode, ProtectionPolicy, VerdictKind } from '../contract';

export const MODE_LABELS: Record<ProtectionMode, string> = {
  threatScanOnly: 'Threat Scan Only',
  monitor: 'Monitor',
  protect: 'Protect',
  disabled: 'Disabled',
};

export const VERDICT_LABELS: Record<VerdictKind, string> = {
  clean: 'Clean',
  spam: 'Spam',
  phishing: 'Phishing',
  malware: 'Malware',
  spoof: 'Spoof',
  impersonation: 'Impersonation',
  unscanned: 'Unscanned',
};

/** Chart colours: dark enough for 3:1 against white. */
export const VERDICT_COLORS: Record<VerdictKind, string> = {
  clean: '#107c10',
  spam: '#8a6d00',
  phishing: '#c50f1f',
  malware: '#750b1c',
  spoof: '#8764b8',
  impersonation: '#ca5010',
  unscanned: '#616161',
};

export const ACTION_LABELS: Record<string, string> = {
  deliver: 'Deliver',
  tag: 'Deliver tagged (warning banner, subject mark)',
  quarantine: 'Quarantine',
  reject: 'Refuse DMARC p=reject failures at DATA (550), else quarantine',
  hold: 'Held for the scanner',
};

export const POLICY_THREATS = ['spam', 'phishing', 'malware', 'spoof', 'impersonation'] as const;

/** What choosing a tenant mode will do, said before the admin confirms it. */
export function modeConsequence(mode: ProtectionMode, def: ProtectionPolicy | null): string {
  const actions = def
    ? POLICY_THREATS.map((v) => `${VERDICT_LABELS[v].toLowerCase()}: ${(ACTION_LABELS[def.actions[v]] ?? def.actions[v]).split(' (')[0].toLowerCase()}`).join(
        '; ',
      )
    : '';
  switch (mode) {
    case 'protect':
      return `Every inbound message is judged (sender authentication, content and malware scanning, impersonation) and the default policy's actions apply: ${actions}. When a scanner is down, messages are ${def?.scannerDown.action === 'hold' ? `held up to ${def.scannerDown.holdMinutes} minutes, then delivered tagged "unscanned"` : 'delivered tagged "unscanned" at once'}.`;
    case 'monitor':
      return 'Every inbound message is judged and its verdict recorded in the detections log, but every message is delivered as received: nothing is tagged, quarantined or refused.';
    case 'threatScanOnly':
      return 'Messages on the mail path are delivered without being judged; nothing new appears in the detections log from the mail path. Threat Scan (through Microsoft Graph) can still find threats in mailboxes after delivery.';
    case 'disabled':
      return 'No inbound message is judged: no verdicts, no tags, no quarantine. Mail is delivered exactly as received.';
  }
}
