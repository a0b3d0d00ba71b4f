/**
 * A minimal parquet writer for test fixtures, written from the format specification (parquet-format's
 * `parquet.thrift`, Thrift compact protocol): one row group, one uncompressed PLAIN data page (v1) per
 * column, required columns of UTF-8 strings (BYTE_ARRAY) or 32-bit integers (INT32). Enough for the text
 * loader's tests; the reader under test is hyparquet.
 */

/** A column: its name and values (all strings or all integers). */
export interface ParquetColumn {
  name: string;
  values: readonly string[] | readonly number[];
}

const T = { I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const;

class Compact {
  readonly bytes: number[] = [];
  private last: number[] = [0];

  private varint(n: bigint): void {
    while (n >= 0x80n) {
      this.bytes.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.bytes.push(Number(n));
  }

  private zigzag(n: number): void {
    const b = BigInt(n);
    this.varint(b >= 0n ? b << 1n : (-b << 1n) - 1n);
  }

  private field(id: number, type: number): void {
    const delta = id - this.last[this.last.length - 1]!;
    if (delta < 1 || delta > 15) throw new Error('parquet writer: field ids must increase by 1 … 15');
    this.bytes.push((delta << 4) | type);
    this.last[this.last.length - 1] = id;
  }

  i32(id: number, v: number): void {
    this.field(id, T.I32);
    this.zigzag(v);
  }

  i64(id: number, v: number): void {
    this.field(id, T.I64);
    this.zigzag(v);
  }

  string(id: number, s: string): void {
    this.field(id, T.BINARY);
    this.binary(s);
  }

  private binary(s: string): void {
    const b = new TextEncoder().encode(s);
    this.varint(BigInt(b.length));
    this.bytes.push(...b);
  }

  private listHeader(id: number, n: number, elem: number): void {
    this.field(id, T.LIST);
    if (n < 15) this.bytes.push((n << 4) | elem);
    else {
      this.bytes.push(0xf0 | elem);
      this.varint(BigInt(n));
    }
  }

  i32List(id: number, vs: readonly number[]): void {
    this.listHeader(id, vs.length, T.I32);
    for (const v of vs) this.zigzag(v);
  }

  stringList(id: number, vs: readonly string[]): void {
    this.listHeader(id, vs.length, T.BINARY);
    for (const v of vs) this.binary(v);
  }

  structList(id: number, n: number, write: (i: number) => void): void {
    this.listHeader(id, n, T.STRUCT);
    for (let i = 0; i < n; i++) this.inStruct(() => write(i));
  }

  struct(id: number, write: () => void): void {
    this.field(id, T.STRUCT);
    this.inStruct(write);
  }

  private inStruct(write: () => void): void {
    this.last.push(0);
    write();
    this.bytes.push(0);
    this.last.pop();
  }

  /** Ends the top-level struct. */
  end(): number[] {
    this.bytes.push(0);
    return this.bytes;
  }
}

function plainValues(values: ParquetColumn['values']): number[] {
  const out: number[] = [];
  for (const v of values) {
    if (typeof v === 'number') {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setInt32(0, v, true);
      out.push(...b);
    } else {
      const s = new TextEncoder().encode(v);
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, s.length, true);
      out.push(...len, ...s);
    }
  }
  return out;
}

/** The bytes of a parquet file holding `columns` (all of the same length) in one row group. */
export function writeParquet(columns: readonly ParquetColumn[]): Uint8Array {
  const rows = columns[0]!.values.length;
  const file: number[] = [...new TextEncoder().encode('PAR1')];
  const chunks: { offset: number; size: number; type: number; name: string }[] = [];
  for (const col of columns) {
    const data = plainValues(col.values);
    const header = new Compact();
    header.i32(1, 0); // DATA_PAGE
    header.i32(2, data.length);
    header.i32(3, data.length);
    header.struct(5, () => {
      header.i32(1, rows);
      header.i32(2, 0); // PLAIN
      header.i32(3, 3); // RLE definition levels (none: required)
      header.i32(4, 3); // RLE repetition levels
    });
    const page = [...header.end(), ...data];
    chunks.push({ offset: file.length, size: page.length, type: typeof col.values[0] === 'number' ? 1 : 6, name: col.name });
    file.push(...page);
  }
  const meta = new Compact();
  meta.i32(1, 1);
  meta.structList(2, columns.length + 1, (i) => {
    if (i === 0) {
      meta.string(4, 'schema');
      meta.i32(5, columns.length);
      return;
    }
    const c = chunks[i - 1]!;
    meta.i32(1, c.type);
    meta.i32(3, 0); // REQUIRED
    meta.string(4, c.name);
    if (c.type === 6) meta.i32(6, 0); // UTF8
  });
  meta.i64(3, rows);
  meta.structList(4, 1, () => {
    meta.structList(1, chunks.length, (i) => {
      const c = chunks[i]!;
      meta.i64(2, c.offset);
      meta.struct(3, () => {
        meta.i32(1, c.type);
        meta.i32List(2, [0]);
        meta.stringList(3, [c.name]);
        meta.i32(4, 0); // UNCOMPRESSED
        meta.i64(5, rows);
        meta.i64(6, c.size);
        meta.i64(7, c.size);
        meta.i64(9, c.offset);
      });
    });
    meta.i64(2, chunks.reduce((s, c) => s + c.size, 0));
    meta.i64(3, rows);
  });
  const footer = meta.end();
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, footer.length, true);
  file.push(...footer, ...len, ...new TextEncoder().encode('PAR1'));
  return Uint8Array.from(file);
}
