/**
 * The Exchange Online PowerShell an admin runs to put Lifeboat in front of (or beside) Exchange Online:
 * Graph cannot create connectors, transport rules or trusted ARC sealers. Each line comes with what it
 * does; the tenant's own transport rules are never reordered (a new rule is created without -Priority,
 * so it goes last); every change has its undo. Values are quoted as PowerShell single-quoted strings.
 */
export interface PowerShellInput {
  /** The host name Lifeboat's SMTP listener presents (its TLS certificate name and smart host). */
  lifeboatHost: string;
  /** The domain whose ARC seals Exchange Online should trust (Lifeboat's sealing domain). */
  arcSealer: string;
  /** The tenant routes inbound internet mail through Lifeboat (scoped routing rule and outbound connector). */
  routeThroughLifeboat: boolean;
}

export interface PowerShellLine {
  command: string;
  explanation: string;
}

const q = (value: string) => `'${value.replace(/'/g, "''")}'`;
export const INBOUND_CONNECTOR = 'Lifeboat inbound';
export const OUTBOUND_CONNECTOR = 'Lifeboat routing';
export const ROUTING_RULE = 'Route inbound internet mail through Lifeboat';

export function exchangePowerShell(input: PowerShellInput): { apply: PowerShellLine[]; undo: PowerShellLine[] } {
  const host = q(input.lifeboatHost);
  const apply: PowerShellLine[] = [
    {
      command: 'Connect-ExchangeOnline',
      explanation: 'Signs in to Exchange Online PowerShell (module ExchangeOnlineManagement) as an Exchange administrator.',
    },
    {
      command: `New-InboundConnector -Name ${q(INBOUND_CONNECTOR)} -ConnectorType Partner -SenderDomains '*' -RequireTls $true -TlsSenderCertificateName ${host}`,
      explanation: "Accepts mail that Lifeboat relays into Exchange Online, identified by the TLS certificate of Lifeboat's host (not by IP).",
    },
    {
      command: `Set-InboundConnector -Identity ${q(INBOUND_CONNECTOR)} -EFSkipLastIP $true`,
      explanation: 'Enhanced Filtering for Connectors: Exchange Online Protection looks past Lifeboat to the real sending server for SPF and reputation.',
    },
  ];
  const undo: PowerShellLine[] = [];
  if (input.routeThroughLifeboat) {
    apply.push(
      {
        command: `New-OutboundConnector -Name ${q(OUTBOUND_CONNECTOR)} -ConnectorType Partner -UseMXRecord $false -SmartHosts ${host} -IsTransportRuleScoped $true -TlsSettings DomainValidation -TlsDomain ${host}`,
        explanation: 'A connector to Lifeboat used only by the rule below (transport-rule scoped), over TLS with the certificate name checked.',
      },
      {
        command: `New-TransportRule -Name ${q(ROUTING_RULE)} -FromScope NotInOrganization -SentToScope InOrganization -RouteMessageOutboundConnector ${q(OUTBOUND_CONNECTOR)} -Comments 'Created by Lifeboat; created without -Priority so it runs after your own rules.'`,
        explanation: "Routes inbound internet mail to Lifeboat. No -Priority: it is added after the tenant's own rules, which keep their order.",
      },
    );
    undo.push(
      { command: `Remove-TransportRule -Identity ${q(ROUTING_RULE)} -Confirm:$false`, explanation: 'Stops routing inbound mail through Lifeboat.' },
      { command: `Remove-OutboundConnector -Identity ${q(OUTBOUND_CONNECTOR)} -Confirm:$false`, explanation: 'Removes the connector the rule used.' },
    );
  }
  apply.push({
    command: `Set-ArcConfig -Identity Default -ArcTrustedSealers ${q(input.arcSealer)}`,
    explanation:
      "Trusts Lifeboat's ARC seal, so Exchange Online keeps the authentication results Lifeboat saw. Replaces the list: add any sealers you already trust, comma-separated.",
  });
  undo.push(
    {
      command: `Remove-InboundConnector -Identity ${q(INBOUND_CONNECTOR)} -Confirm:$false`,
      explanation: 'Removes the inbound connector (and its Enhanced Filtering setting).',
    },
    { command: "Set-ArcConfig -Identity Default -ArcTrustedSealers ''", explanation: 'Clears the trusted ARC sealers (put back any you trusted before).' },
  );
  return { apply, undo };
}
