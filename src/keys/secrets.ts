import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/**
 * Secrets at rest: version(1) ‖ key id(8) ‖ nonce(12) ‖ ciphertext ‖ tag(16), AES-256-GCM under the
 * master key, with AAD = table ‖ 0x00 ‖ row id so a blob copied into another row does not decrypt.
 * The key id (first 8 bytes of SHA-256 of the key) says which master key sealed a blob, so a
 * rotation can decrypt with GATEHOUSE_MASTER_KEY_PREVIOUS while writing with the new key.
 */
const VERSION = 1;

export interface MasterKeys {
  current: Buffer;
  previous?: Buffer;
}

export class SecretError extends Error {
  override name = "SecretError";
}

export function keyId(key: Buffer): Buffer {
  return createHash("sha256").update(key).digest().subarray(0, 8);
}

function aad(table: string, rowId: string): Buffer {
  return Buffer.concat([Buffer.from(table), Buffer.from([0]), Buffer.from(rowId)]);
}

/** seal encrypts `plaintext` for one row of one table under the current master key. */
export function seal(keys: MasterKeys, table: string, rowId: string, plaintext: Uint8Array): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keys.current, nonce);
  cipher.setAAD(aad(table, rowId));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), keyId(keys.current), nonce, body, cipher.getAuthTag()]);
}

/** open decrypts a sealed blob; it throws SecretError when no master key we hold sealed it or it was tampered with. */
export function open(keys: MasterKeys, table: string, rowId: string, blob: Uint8Array): Buffer {
  const buf = Buffer.from(blob);
  if (buf.length < 1 + 8 + 12 + 16 || buf[0] !== VERSION) throw new SecretError("unknown secret format");
  const id = buf.subarray(1, 9);
  const key = [keys.current, keys.previous].find((k) => k !== undefined && keyId(k).equals(id));
  if (!key) throw new SecretError("sealed under a master key this process does not hold");
  const decipher = createDecipheriv("aes-256-gcm", key, buf.subarray(9, 21));
  decipher.setAAD(aad(table, rowId));
  decipher.setAuthTag(buf.subarray(buf.length - 16));
  try {
    return Buffer.concat([decipher.update(buf.subarray(21, buf.length - 16)), decipher.final()]);
  } catch (err) {
    throw new SecretError("secret failed authentication (wrong master key, or the row was altered)", { cause: err });
  }
}
