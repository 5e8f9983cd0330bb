/**
 * LIFEBOAT_TRUST_PROXY → Express `trust proxy`. Unset: no proxy is trusted and the client address is the
 * socket's peer (X-Forwarded-For is ignored, so a client cannot pick the address it is throttled by).
 * Behind a TLS-terminating proxy set it to the proxy's addresses/subnets (comma-separated), a preset
 * (`loopback`, `linklocal`, `uniquelocal`) or a number of hops; `true` trusts every hop (never on the internet).
 */
export function trustProxySetting(value: string | undefined): boolean | number | string[] {
  const raw = value?.trim();
  if (!raw || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
