import type { TxSql } from "./sql.js";

/**
 * Binary COPY for bulk bytea traffic: a CRL build reads a million stored entries, and writes a
 * 35 MB CRL, without the per-row protocol overhead and without bytea's hex text (twice the bytes,
 * as one JavaScript string). Format: PostgreSQL "Binary Format" of COPY (signature, flags, header
 * extension, then per tuple an int16 field count and per field an int32 length and the bytes).
 */

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
const HEADER = Buffer.concat([SIGNATURE, Buffer.alloc(8)]);
const TRAILER = Buffer.from([0xff, 0xff]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** uuidLiteral quotes a UUID for SQL text (COPY takes no parameters); anything else throws. */
export function uuidLiteral(id: string): string {
  if (!UUID.test(id)) throw new TypeError("not a lowercase UUID");
  return `'${id}'`;
}

/** timestampLiteral quotes a Date for SQL text (ISO 8601, UTC). */
export function timestampLiteral(d: Date): string {
  return `'${d.toISOString()}'::timestamptz`;
}

/**
 * copyOutFields runs `COPY (query) TO STDOUT (FORMAT binary)` for a query of ONE bytea column and
 * calls `onField` with each non-null value (a view valid only during the call). `query` is SQL
 * text: callers build it from literals made by uuidLiteral/timestampLiteral only.
 */
export async function copyOutFields(sql: TxSql, query: string, onField: (field: Uint8Array) => void): Promise<number> {
  const stream = await sql.unsafe(`COPY (${query}) TO STDOUT (FORMAT binary)`).readable();
  const parser = new BinaryCopyParser(onField);
  // postgres.js 3.4 pauses its socket when the COPY stream's buffer is full and resumes it only
  // from the stream's _read(), which Node never calls once the stream has ended (CopyDone can
  // arrive in the same socket read as the data that filled the buffer). A paused socket would make
  // the connection's next statement wait forever, so: consume in flowing mode, and on end call
  // _read() once more, which only resumes the socket.
  const resumeSocket = () => (stream as unknown as { _read?: (n: number) => void })._read?.(0);
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch (err) {
        stream.destroy(err as Error);
      }
    });
    stream.on("end", () => {
      resumeSocket();
      if (parser.done) resolve();
      else reject(new Error("COPY stream ended early"));
    });
    stream.on("error", (err) => {
      resumeSocket();
      reject(err);
    });
  });
  return parser.rows;
}

/**
 * copyInBytea writes one row of one bytea column into `table` with `COPY … FROM STDIN (FORMAT
 * binary)`, streaming `parts` (whose concatenation is the value) without joining them.
 */
export async function copyInBytea(sql: TxSql, table: string, parts: Uint8Array[]): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new TypeError("bad table name");
  const length = parts.reduce((n, p) => n + p.length, 0);
  const stream = await sql.unsafe(`COPY ${table} FROM STDIN (FORMAT binary)`).writable();
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.on("finish", () => resolve());
    const tuple = Buffer.alloc(6);
    tuple.writeInt16BE(1, 0);
    tuple.writeInt32BE(length, 2);
    stream.write(HEADER);
    stream.write(tuple);
    for (const p of parts) stream.write(p);
    stream.end(TRAILER);
  });
}

/** BinaryCopyParser reads single-column binary COPY data arriving in arbitrary chunks. */
class BinaryCopyParser {
  rows = 0;
  done = false;
  private pending: Buffer = Buffer.alloc(0);
  private headerRead = false;
  /** A field longer than one chunk is gathered here. */
  private field?: { buf: Buffer; filled: number };

  constructor(private readonly onField: (field: Uint8Array) => void) {}

  push(chunk: Buffer): void {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    if (this.field) {
      const f = this.field;
      const take = Math.min(f.buf.length - f.filled, buf.length);
      buf.copy(f.buf, f.filled, 0, take);
      f.filled += take;
      at = take;
      if (f.filled < f.buf.length) return;
      this.field = undefined;
      this.onField(f.buf);
      this.rows++;
    }
    if (!this.headerRead) {
      if (buf.length - at < 19) {
        this.pending = buf.subarray(at);
        return;
      }
      if (!buf.subarray(at, at + 11).equals(SIGNATURE)) throw new Error("not binary COPY data");
      at += 19 + buf.readInt32BE(at + 15);
      this.headerRead = true;
    }
    while (!this.done) {
      if (buf.length - at < 2) break;
      const fields = buf.readInt16BE(at);
      if (fields === -1) {
        this.done = true;
        at += 2;
        break;
      }
      if (fields !== 1) throw new Error("binary COPY: expected one column");
      if (buf.length - at < 6) break;
      const len = buf.readInt32BE(at + 2);
      if (len === -1) {
        at += 6;
        this.rows++;
        continue;
      }
      if (buf.length - at - 6 >= len) {
        this.onField(buf.subarray(at + 6, at + 6 + len));
        this.rows++;
        at += 6 + len;
        continue;
      }
      if (len > 1 << 16) {
        // a large field (a stored CRL): gather it in its own buffer instead of re-concatenating
        const f = { buf: Buffer.allocUnsafe(len), filled: buf.length - at - 6 };
        buf.copy(f.buf, 0, at + 6);
        this.field = f;
        at = buf.length;
      }
      break;
    }
    this.pending = at < buf.length ? Buffer.from(buf.subarray(at)) : Buffer.alloc(0);
  }
}
