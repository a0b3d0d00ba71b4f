/**
 * A strict JSON scanner with the rules of `serde_json` (the parser of the reference safetensors
 * implementation): whitespace is space, tab, LF and CR only; no control characters inside strings; escapes
 * `\" \\ \/ \b \f \n \r \t \uXXXX` with surrogates only in valid pairs; numbers in RFC 8259 form and finite as
 * doubles; containers nested at most 127 deep (serde_json's recursion limit of 128). It lets a typed reader
 * walk a document piece by piece and skips the values it does not need without building them, so a hostile
 * document costs one linear pass and no memory.
 */

/** Deepest container nesting serde_json accepts (the document's outer object counts as 1). */
export const MAX_JSON_NESTING = 127;

/** A number literal as written: `integer` when it is a plain non-negative integer (no sign, fraction or exponent). */
export interface NumberLiteral {
  text: string;
  integer: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Character code after a backslash → the code unit it stands for (`u` is handled apart). */
const ESCAPE_CODES: Readonly<Record<number, number>> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Value of a hexadecimal digit's character code, or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/** Code unit that each escape letter stands for (index: the character code after the backslash; 0: none). */
const ESCAPE_UNITS = (() => {
  const table = new Uint8Array(128);
  for (const [code, unit] of Object.entries(ESCAPE_CODES)) table[Number(code)] = unit;
  return table;
})();

/**
 * Decodes the escapes of an already validated string body `text[start, end)` into one code-unit buffer, read
 * out in slices (one string concatenation per escape would cost seconds and gigabytes on a hostile 100 MB
 * string).
 */
function unescapeBody(text: string, start: number, end: number): string {
  const units = new Uint16Array(end - start); // never longer than the escaped text
  let n = 0;
  for (let at = start; at < end; ) {
    const c = text.charCodeAt(at);
    if (c !== BACKSLASH) {
      units[n++] = c;
      at++;
    } else if (text.charCodeAt(at + 1) !== 0x75) {
      units[n++] = ESCAPE_UNITS[text.charCodeAt(at + 1)]!;
      at += 2;
    } else {
      units[n++] = parseInt(text.slice(at + 2, at + 6), 16); // a surrogate pair is two such escapes in a row
      at += 6;
    }
  }
  const parts: string[] = [];
  for (let i = 0; i < n; i += 8192) parts.push(String.fromCharCode.apply(null, units.subarray(i, Math.min(n, i + 8192)) as unknown as number[]));
  return parts.join('');
}

/** Scans one JSON text; every problem goes to `fail` (which throws), with the character position. */
export class JsonScanner {
  /** Index of the next character of `text`. */
  pos = 0;

  constructor(
    private readonly text: string,
    private readonly fail: (problem: string) => never,
  ) {}

  /** Raises `problem` at the current position. */
  error(problem: string): never {
    return this.fail(`${problem} at character ${this.pos}`);
  }

  /** Skips whitespace and returns the next character code, or -1 at the end. */
  peek(): number {
    const { text } = this;
    let c = text.charCodeAt(this.pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++this.pos);
    return Number.isNaN(c) ? -1 : c;
  }

  /** Consumes `ch` (after whitespace) when it comes next. */
  eat(ch: string): boolean {
    if (this.peek() !== ch.charCodeAt(0)) return false;
    this.pos++;
    return true;
  }

  /** Consumes `ch` (after whitespace) or raises. */
  expect(ch: string, what = `'${ch}'`): void {
    if (!this.eat(ch)) this.error(`expected ${what}`);
  }

  /** Requires that only whitespace remains. */
  end(): void {
    if (this.peek() !== -1) this.error('trailing characters after the JSON value');
  }

  /** Raises unless a container opened inside `depth` enclosing ones stays within the nesting limit. */
  checkNesting(depth: number): void {
    if (depth + 1 > MAX_JSON_NESTING) this.error(`nesting deeper than ${MAX_JSON_NESTING} levels`);
  }

  /**
   * Walks the members of an object that starts here: calls `member(key)` with the scanner on each value,
   * which `member` must consume. `depth` is the number of containers around this object.
   */
  object(depth: number, member: (key: string) => void): void {
    this.checkNesting(depth);
    this.expect('{', 'an object');
    if (this.eat('}')) return;
    do {
      const key = this.string();
      this.expect(':');
      member(key);
    } while (this.eat(','));
    this.expect('}', "',' or '}'");
  }

  /** Walks the items of an array that starts here: calls `item(index)` for each, which must consume it. */
  array(depth: number, item: (index: number) => void): void {
    this.checkNesting(depth);
    this.expect('[', 'an array');
    if (this.eat(']')) return;
    let index = 0;
    do item(index++);
    while (this.eat(','));
    this.expect(']', "',' or ']'");
  }

  /** True (and consumed) when the literal `null` comes next. */
  eatNull(): boolean {
    if (this.peek() !== 0x6e) return false;
    this.literal('null');
    return true;
  }

  /** Reads a string and returns its unescaped value. */
  string(): string {
    const { start, end, escaped } = this.scanString();
    return escaped ? unescapeBody(this.text, start, end) : this.text.slice(start, end);
  }

  /**
   * Validates the string that starts here (after whitespace) and moves past it, building nothing; returns its
   * raw bounds (quotes excluded) and whether it holds escapes.
   */
  private scanString(): { start: number; end: number; escaped: boolean } {
    if (this.peek() !== QUOTE) this.error('expected a string');
    const { text } = this;
    const start = this.pos + 1;
    let at = start;
    let escaped = false;
    for (;;) {
      const c = text.charCodeAt(at);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        escaped = true;
        at = this.checkEscape(at);
        continue;
      }
      if (!(c >= 0x20)) {
        this.pos = at;
        this.error(Number.isNaN(c) ? 'unterminated string' : 'control character inside a string');
      }
      at++;
    }
    this.pos = at + 1;
    return { start, end: at, escaped };
  }

  /** Validates the escape at `at` (a backslash) and returns the index after it; surrogates must pair up. */
  private checkEscape(at: number): number {
    const { text } = this;
    const kind = text.charCodeAt(at + 1);
    if (kind !== 0x75) {
      if (ESCAPE_CODES[kind] === undefined) this.errorAt(at, 'invalid escape');
      return at + 2;
    }
    const unit = this.hex4(at + 2);
    if (unit >= 0xdc00 && unit <= 0xdfff) this.errorAt(at, 'lone trailing surrogate in a \\u escape');
    if (unit < 0xd800 || unit > 0xdbff) return at + 6;
    if (text.charCodeAt(at + 6) !== BACKSLASH || text.charCodeAt(at + 7) !== 0x75) this.errorAt(at, 'lone leading surrogate in a \\u escape');
    const low = this.hex4(at + 8);
    if (low < 0xdc00 || low > 0xdfff) this.errorAt(at, 'lone leading surrogate in a \\u escape');
    return at + 12;
  }

  private hex4(at: number): number {
    let value = 0;
    for (let i = at; i < at + 4; i++) {
      const digit = hexDigit(this.text.charCodeAt(i));
      if (digit < 0) this.errorAt(i, 'invalid \\u escape');
      value = value * 16 + digit;
    }
    return value;
  }

  private errorAt(at: number, problem: string): never {
    this.pos = at;
    return this.error(problem);
  }

  /** Reads a number literal in RFC 8259 grammar. */
  number(): NumberLiteral {
    const { text } = this;
    this.peek();
    const start = this.pos;
    let at = start;
    const negative = text.charCodeAt(at) === 0x2d;
    if (negative) at++;
    if (text.charCodeAt(at) === 0x30) at++;
    else if (isDigit(text.charCodeAt(at))) while (isDigit(text.charCodeAt(at))) at++;
    else this.error('expected a value');
    let integer = !negative;
    if (text.charCodeAt(at) === 0x2e) {
      integer = false;
      at = this.digits(at + 1);
    }
    const e = text.charCodeAt(at);
    if (e === 0x65 || e === 0x45) {
      integer = false;
      const sign = text.charCodeAt(at + 1);
      at = this.digits(sign === 0x2b || sign === 0x2d ? at + 2 : at + 1);
    }
    this.pos = at;
    return { text: text.slice(start, at), integer };
  }

  private digits(at: number): number {
    if (!isDigit(this.text.charCodeAt(at))) {
      this.pos = at;
      this.error('invalid number');
    }
    while (isDigit(this.text.charCodeAt(at))) at++;
    return at;
  }

  private literal(word: 'true' | 'false' | 'null'): void {
    if (!this.text.startsWith(word, this.pos)) this.error('expected a value');
    this.pos += word.length;
  }

  /**
   * Validates and skips one value of any type without building it. Iterative, so that only the nesting limit
   * bounds the depth; `depth` is the number of containers around the value.
   */
  skip(depth: number): void {
    const open: number[] = []; // closing characters of the containers opened here
    for (;;) {
      const c = this.peek();
      if (c === 0x7b || c === 0x5b) {
        this.checkNesting(depth + open.length);
        this.pos++;
        const close = c === 0x7b ? 0x7d : 0x5d;
        if (this.peek() !== close) {
          open.push(close);
          if (close === 0x7d) this.memberKey();
          continue;
        }
        this.pos++;
      } else if (c === QUOTE) this.scanString();
      else if (c === 0x74) this.literal('true');
      else if (c === 0x66) this.literal('false');
      else if (c === 0x6e) this.literal('null');
      else {
        // serde_json reads every number as u64, i64 or a finite f64.
        const { text } = this.number();
        if (!Number.isFinite(Number(text))) this.error(`number ${text.slice(0, 40)} out of range`);
      }
      // A value is complete: close finished containers, or move to the next item.
      for (;;) {
        const close = open[open.length - 1];
        if (close === undefined) return;
        const next = this.peek();
        if (next === 0x2c) {
          this.pos++;
          if (close === 0x7d) this.memberKey();
          break;
        }
        if (next !== close) this.error(close === 0x7d ? "expected ',' or '}'" : "expected ',' or ']'");
        this.pos++;
        open.pop();
      }
    }
  }

  private memberKey(): void {
    this.scanString();
    this.expect(':');
  }
}
