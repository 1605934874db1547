/**
 * client-hello.ts reads the server_name (SNI, RFC 6066 §3) out of a TLS ClientHello (RFC 8446
 * §4.1.2) from the bytes a client sent first, without consuming them: the edge peeks at the name,
 * picks the TLS server for the hostname (one that requests a client certificate, or one that never
 * does) and hands it the socket with the same bytes put back.
 *
 *   TLSPlaintext { ContentType type = 22; ProtocolVersion; uint16 length; opaque fragment }
 *   Handshake    { HandshakeType msg_type = 1; uint24 length; ClientHello body }
 *   ClientHello  { version; random[32]; session_id<0..32>; cipher_suites<2..2^16-2>;
 *                  compression_methods<1..2^8-1>; extensions<8..2^16-1> }
 *   ServerNameList { ServerName server_name_list<1..2^16-1> }, ServerName { uint8 name_type = 0; HostName<1..2^16-1> }
 *
 * The ClientHello may span several records; they are reassembled up to MAX_CLIENT_HELLO bytes.
 */

/** MAX_CLIENT_HELLO bounds the handshake message the peek will buffer (post-quantum key shares fit easily). */
export const MAX_CLIENT_HELLO = 64 * 1024;

const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const NAME_TYPE_HOST = 0;

/** PeekResult: `more` (send more bytes), `hello` (a complete ClientHello, with its SNI if any), or `invalid`. */
export type PeekResult = { kind: "more" } | { kind: "hello"; serverName?: string } | { kind: "invalid"; why: string };

const MORE: PeekResult = { kind: "more" };
const invalid = (why: string): PeekResult => ({ kind: "invalid", why });

/**
 * peekClientHello looks at the bytes received so far. It never throws: malformed input is
 * `invalid`, too little is `more`. A present but unusable server_name (not a DNS host name) is
 * reported as absent, so such a connection is treated like one without SNI.
 */
export function peekClientHello(buf: Buffer): PeekResult {
  // Reassemble the handshake layer from consecutive handshake records.
  let pos = 0;
  let hs: Buffer | undefined;
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1; // total handshake message length (header included) once known
  while (true) {
    if (buf.length - pos < 5) return MORE;
    if (buf[pos] !== RECORD_HANDSHAKE) return invalid(pos === 0 ? "not a TLS handshake" : "ClientHello interrupted by another record");
    if (buf[pos + 1] !== 3) return invalid("not a TLS record version");
    const len = buf.readUInt16BE(pos + 3);
    if (len === 0 || len > 16384 + 256) return invalid("bad record length");
    if (buf.length - pos - 5 < len) return MORE;
    const fragment = buf.subarray(pos + 5, pos + 5 + len);
    pos += 5 + len;
    parts.push(fragment);
    have += fragment.length;
    if (need < 0 && have >= 4) {
      const head = parts.length === 1 ? fragment : Buffer.concat(parts);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return invalid("first handshake message is not a ClientHello");
      need = 4 + ((head[1] << 16) | (head[2] << 8) | head[3]);
      if (need > MAX_CLIENT_HELLO) return invalid("ClientHello too large");
    }
    if (need >= 0 && have >= need) {
      hs = (parts.length === 1 ? fragment : Buffer.concat(parts)).subarray(0, need);
      break;
    }
    if (have > MAX_CLIENT_HELLO) return invalid("ClientHello too large");
  }
  return parseClientHelloBody(hs.subarray(4));
}

function parseClientHelloBody(b: Buffer): PeekResult {
  let p = 2 + 32; // legacy_version, random
  if (b.length < p + 1) return invalid("truncated ClientHello");
  p += 1 + b[p]; // session id
  if (b.length < p + 2) return invalid("truncated ClientHello");
  p += 2 + b.readUInt16BE(p); // cipher suites
  if (b.length < p + 1) return invalid("truncated ClientHello");
  p += 1 + b[p]; // compression methods
  if (p === b.length) return { kind: "hello" }; // no extensions at all (SSL 3-era hello)
  if (b.length < p + 2) return invalid("truncated ClientHello");
  const end = p + 2 + b.readUInt16BE(p);
  if (end > b.length) return invalid("truncated extensions");
  p += 2;
  while (p + 4 <= end) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    p += 4;
    if (p + len > end) return invalid("truncated extension");
    if (type === EXT_SERVER_NAME) return { kind: "hello", serverName: readServerName(b.subarray(p, p + len)) };
    p += len;
  }
  return { kind: "hello" };
}

/** readServerName returns the first host_name entry, lower-cased, when it is a DNS name. */
function readServerName(ext: Buffer): string | undefined {
  if (ext.length < 2) return undefined;
  const listEnd = Math.min(ext.length, 2 + ext.readUInt16BE(0));
  let p = 2;
  while (p + 3 <= listEnd) {
    const type = ext[p];
    const len = ext.readUInt16BE(p + 1);
    p += 3;
    if (p + len > listEnd) return undefined;
    if (type === NAME_TYPE_HOST) return normaliseHostname(ext.toString("latin1", p, p + len));
    p += len;
  }
  return undefined;
}

const HOSTNAME = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/**
 * normaliseHostname lower-cases a host name and drops one trailing dot; undefined when it is not
 * an LDH (underscores allowed) DNS name. Used for the SNI and for the HTTP Host alike.
 */
export function normaliseHostname(raw: string): string | undefined {
  let name = raw.toLowerCase();
  if (name.endsWith(".")) name = name.slice(0, -1);
  return HOSTNAME.test(name) ? name : undefined;
}

/**
 * hostOfHeader takes an HTTP Host header (`name`, `name:port`, `[v6]:port`) and returns the host
 * name normalised, or undefined for an IP literal or anything that is not a DNS name.
 */
export function hostOfHeader(host: string | undefined): string | undefined {
  if (!host || host.startsWith("[")) return undefined;
  const colon = host.indexOf(":");
  const name = colon < 0 ? host : host.slice(0, colon);
  if (/^[0-9.]+$/.test(name)) return undefined;
  return normaliseHostname(name);
}
