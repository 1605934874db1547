/**
 * oids.ts names every OBJECT IDENTIFIER the PKI core reads or writes (dotted form), with the
 * names used in messages and DN strings.
 */

/** Oid: algorithm, attribute, extension and access-method identifiers. */
export const Oid = {
  // Public-key and signature algorithms (RFC 3279, RFC 4055, RFC 5480, RFC 5758, RFC 8410)
  rsaEncryption: "1.2.840.113549.1.1.1",
  rsassaPss: "1.2.840.113549.1.1.10",
  sha1WithRSA: "1.2.840.113549.1.1.5",
  sha256WithRSA: "1.2.840.113549.1.1.11",
  sha384WithRSA: "1.2.840.113549.1.1.12",
  sha512WithRSA: "1.2.840.113549.1.1.13",
  ecPublicKey: "1.2.840.10045.2.1",
  ecdsaWithSHA1: "1.2.840.10045.4.1",
  ecdsaWithSHA256: "1.2.840.10045.4.3.2",
  ecdsaWithSHA384: "1.2.840.10045.4.3.3",
  ecdsaWithSHA512: "1.2.840.10045.4.3.4",
  ed25519: "1.3.101.112",
  ed448: "1.3.101.113",
  prime256v1: "1.2.840.10045.3.1.7",
  secp384r1: "1.3.132.0.34",
  // Attributes (X.520, RFC 4519, PKCS#9)
  commonName: "2.5.4.3",
  surname: "2.5.4.4",
  serialNumber: "2.5.4.5",
  countryName: "2.5.4.6",
  localityName: "2.5.4.7",
  stateOrProvinceName: "2.5.4.8",
  streetAddress: "2.5.4.9",
  organizationName: "2.5.4.10",
  organizationalUnitName: "2.5.4.11",
  title: "2.5.4.12",
  postalCode: "2.5.4.17",
  givenName: "2.5.4.42",
  domainComponent: "0.9.2342.19200300.100.1.25",
  userId: "0.9.2342.19200300.100.1.1",
  emailAddress: "1.2.840.113549.1.9.1",
  extensionRequest: "1.2.840.113549.1.9.14",
  // Extensions (RFC 5280 §4.2)
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  cRLDistributionPoints: "2.5.29.31",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  authorityInfoAccess: "1.3.6.1.5.5.7.1.1",
  // Key purposes and access methods
  clientAuth: "1.3.6.1.5.5.7.3.2",
  ocsp: "1.3.6.1.5.5.7.48.1",
  caIssuers: "1.3.6.1.5.5.7.48.2",
} as const;

/** EXTENSION_NAMES gives the RFC 5280 names used in `droppedExtensions` and messages; others show as dotted OIDs. */
export const EXTENSION_NAMES: Readonly<Record<string, string>> = {
  "2.5.29.9": "subjectDirectoryAttributes",
  "2.5.29.14": "subjectKeyIdentifier",
  "2.5.29.15": "keyUsage",
  "2.5.29.16": "privateKeyUsagePeriod",
  "2.5.29.17": "subjectAltName",
  "2.5.29.18": "issuerAltName",
  "2.5.29.19": "basicConstraints",
  "2.5.29.30": "nameConstraints",
  "2.5.29.31": "cRLDistributionPoints",
  "2.5.29.32": "certificatePolicies",
  "2.5.29.33": "policyMappings",
  "2.5.29.35": "authorityKeyIdentifier",
  "2.5.29.36": "policyConstraints",
  "2.5.29.37": "extendedKeyUsage",
  "2.5.29.46": "freshestCRL",
  "2.5.29.54": "inhibitAnyPolicy",
  "1.3.6.1.5.5.7.1.1": "authorityInfoAccess",
  "1.3.6.1.5.5.7.1.11": "subjectInfoAccess",
  "1.3.6.1.5.5.7.1.24": "tlsFeature",
  "2.16.840.1.113730.1.1": "nsCertType",
  "2.16.840.1.113730.1.13": "nsComment",
};

/** extensionName returns the RFC 5280 name of an extension OID, or the dotted OID. */
export const extensionName = (oid: string): string => EXTENSION_NAMES[oid] ?? oid;

/**
 * DN_SHORT_NAMES: attribute type names for RFC 4514 strings (its §3 list, plus SERIALNUMBER
 * and POSTALCODE, which Go and Cloudflare also print by name).
 */
export const DN_SHORT_NAMES: Readonly<Record<string, string>> = {
  "2.5.4.3": "CN",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.6": "C",
  "2.5.4.9": "STREET",
  "0.9.2342.19200300.100.1.25": "DC",
  "0.9.2342.19200300.100.1.1": "UID",
  "2.5.4.5": "SERIALNUMBER",
  "2.5.4.17": "POSTALCODE",
};

/** LEGACY_SHORT_NAMES: the names OpenSSL's X509_NAME_oneline prints ("/C=US/ST=…/CN=…"). */
export const LEGACY_SHORT_NAMES: Readonly<Record<string, string>> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "street",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.12": "title",
  "2.5.4.17": "postalCode",
  "2.5.4.42": "GN",
  "0.9.2342.19200300.100.1.25": "DC",
  "0.9.2342.19200300.100.1.1": "UID",
  "1.2.840.113549.1.9.1": "emailAddress",
};
