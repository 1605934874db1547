/**
 * PkiErrors: codes of the public CRL, OCSP and CA-certificate endpoints (1600–1699). OCSP protocol
 * failures are OCSP responses (malformedRequest, unauthorized, tryLater), not these.
 */
export const PkiErrors = {
  /** 404: no managed CA with this id (unknown, or a BYOCA upload: Gatehouse publishes nothing for those). */
  noManagedCa: 1600,
  /** 429: too many requests from this client address to /pki/…. */
  rateLimited: 1601,
  /** 415: an OCSP POST whose Content-Type is not application/ocsp-request. */
  ocspMediaType: 1602,
  /** 503: a CA's first CRL is still being built by another process. */
  crlUnavailable: 1603,
} as const;
