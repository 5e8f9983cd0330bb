/** The Exchange Online PowerShell generator: every line explained, quoting safe, no -Priority, an undo for every change. */
import { exchangePowerShell } from '../../server/exchange-setup/powershell';

describe('Exchange Online PowerShell', () => {
  it('generates the connector, Enhanced Filtering and ARC lines, each explained, with their undo', () => {
    const { apply, undo } = exchangePowerShell({ lifeboatHost: 'mx.lifeboat.example', arcSealer: 'lifeboat.example', routeThroughLifeboat: false });
    expect(apply.map((l) => l.command.split(' ')[0])).toEqual(['Connect-ExchangeOnline', 'New-InboundConnector', 'Set-InboundConnector', 'Set-ArcConfig']);
    expect(apply.every((l) => l.explanation.length > 20)).toBe(true);
    expect(apply[1]!.command).toContain("-TlsSenderCertificateName 'mx.lifeboat.example'");
    expect(apply[2]!.command).toContain('-EFSkipLastIP $true');
    expect(apply[3]!.command).toBe("Set-ArcConfig -Identity Default -ArcTrustedSealers 'lifeboat.example'");
    expect(undo.map((l) => l.command.split(' ')[0])).toEqual(['Remove-InboundConnector', 'Set-ArcConfig']);
  });

  it('adds the scoped routing rule without reordering the tenant rules, and quotes values safely', () => {
    const { apply, undo } = exchangePowerShell({ lifeboatHost: "evil'; Remove-Mailbox x", arcSealer: 'lifeboat.example', routeThroughLifeboat: true });
    const rule = apply.find((l) => l.command.startsWith('New-TransportRule'))!;
    expect(rule.command).not.toMatch(/-Priority\s+\d/);
    expect(apply.find((l) => l.command.startsWith('New-OutboundConnector'))!.command).toContain("-SmartHosts 'evil''; Remove-Mailbox x'");
    expect(undo.map((l) => l.command.split(' ')[0])).toEqual(['Remove-TransportRule', 'Remove-OutboundConnector', 'Remove-InboundConnector', 'Set-ArcConfig']);
  });
});
