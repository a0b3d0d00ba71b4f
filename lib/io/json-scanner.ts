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
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
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
    if (this.peek() !== QUOTE) this.error('expected a string');
    const { text } = this;
    let at = ++this.pos;
    let out = '';
    for (;;) {
      const c = text.charCodeAt(at);
      if (c === QUOTE) break;
      if (Number.isNaN(c)) {
        this.pos = at;
        this.error('unterminated string');
      }
      if (c < 0x20) {
        this.pos = at;
        this.error('control character inside a string');
      }
      if (c !== BACKSLASH) {
        at++;
        continue;
      }
      out += text.slice(this.pos, at);
      this.pos = at;
      out += this.escape();
      at = this.pos;
    }
    out += text.slice(this.pos, at);
    this.pos = at + 1;
    return out;
  }

  /** Reads one escape sequence at `pos` (a backslash); surrogates must come as a valid pair. */
  private escape(): string {
    const kind = this.text.charAt(this.pos + 1);
    if (kind !== 'u') {
      const value = ESCAPES[kind];
      if (value === undefined) this.error('invalid escape');
      this.pos += 2;
      return value;
    }
    const unit = this.hex4(this.pos + 2);
    this.pos += 6;
    if (unit >= 0xdc00 && unit <= 0xdfff) this.error('lone trailing surrogate in a \\u escape');
    if (unit < 0xd800 || unit > 0xdbff) return String.fromCharCode(unit);
    if (this.text.charCodeAt(this.pos) !== BACKSLASH || this.text.charAt(this.pos + 1) !== 'u') this.error('lone leading surrogate in a \\u escape');
    const low = this.hex4(this.pos + 2);
    if (low < 0xdc00 || low > 0xdfff) this.error('lone leading surrogate in a \\u escape');
    this.pos += 6;
    return String.fromCharCode(unit, low);
  }

  private hex4(at: number): number {
    const digits = this.text.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) this.error('invalid \\u escape');
    return parseInt(digits, 16);
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
      } else if (c === QUOTE) this.string();
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
    this.string();
    this.expect(':');
  }
}
