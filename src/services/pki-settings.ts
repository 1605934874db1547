/**
 * PkiSettings: the knobs of CRL and OCSP publishing (README "CRLs and OCSP"). Config sets them from
 * the environment; ServiceContext carries them as an optional field, defaults filling the gaps.
 */
export interface PkiSettings {
  /** nextUpdate − thisUpdate of every CRL, hours (GATEHOUSE_CRL_VALIDITY_HOURS). */
  crlValidityHours: number;
  /** At most one CRL per CA per this many seconds after revocations (GATEHOUSE_CRL_DEBOUNCE_SECONDS). */
  crlDebounceSeconds: number;
  /** nextUpdate − thisUpdate of OCSP responses, hours (GATEHOUSE_OCSP_VALIDITY_HOURS). */
  ocspValidityHours: number;
  /** Requests per second per client address on /pki/… (GATEHOUSE_PKI_RATE_LIMIT); 0: no limit. */
  pkiRateLimit: number;
  /** Freshly signed (nonce) OCSP responses per minute per client address (GATEHOUSE_OCSP_NONCE_PER_MINUTE). */
  ocspNoncePerMinute: number;
  /** How often each process looks for CRLs to refresh or pending changes left behind, seconds. */
  sweepSeconds: number;
  /** copyIn: COPY FROM STDIN works (a PostgreSQL server; PGlite's socket lacks it). Set by start-up, not a knob. */
  copyIn: boolean;
}

export const PKI_DEFAULTS: PkiSettings = {
  crlValidityHours: 24,
  crlDebounceSeconds: 5,
  ocspValidityHours: 12,
  pkiRateLimit: 200,
  ocspNoncePerMinute: 120,
  sweepSeconds: 30,
  copyIn: false,
};

/** pkiSettings fills unset fields with the defaults. */
export function pkiSettings(partial: Partial<PkiSettings> | undefined): PkiSettings {
  const out = { ...PKI_DEFAULTS };
  for (const [k, v] of Object.entries(partial ?? {})) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
