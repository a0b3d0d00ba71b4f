import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { decodeImage, sniffImageFormat } from '../../../lib/data/image-decode.js';
import { InvalidInputError } from '../../../lib/errors.js';

// ---- a minimal PNG writer (so palette, 16-bit and tRNS files can be made; pngjs writes none of them) ----
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/** PNG with the given IHDR fields; `rows` are the unfiltered scanlines (filter byte 0 is added). */
function makePng(width: number, height: number, depth: number, colorType: number, rows: Uint8Array[], extra: Buffer[] = []): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  const raw = Buffer.concat(rows.map((r) => Buffer.concat([Buffer.from([0]), r])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...extra,
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

test('decodeImage: RGBA PNG drops alpha, keeps colour', () => {
  const png = new PNG({ width: 2, height: 1 });
  png.data.set([10, 20, 30, 0, 200, 100, 50, 128]);
  const img = decodeImage(PNG.sync.write(png));
  assert.equal(img.width, 2);
  assert.equal(img.height, 1);
  assert.deepEqual([...img.rgb], [10, 20, 30, 200, 100, 50]);
});

test('decodeImage: 8-bit grayscale PNG is replicated to RGB', () => {
  const img = decodeImage(makePng(3, 1, 8, 0, [Uint8Array.from([0, 77, 255])]));
  assert.deepEqual([...img.rgb], [0, 0, 0, 77, 77, 77, 255, 255, 255]);
});

test('decodeImage: 4-bit grayscale scales by 17, 1-bit to 0/255', () => {
  const four = decodeImage(makePng(2, 1, 4, 0, [Uint8Array.from([0x3f])]));
  assert.deepEqual([...four.rgb], [51, 51, 51, 255, 255, 255]);
  const one = decodeImage(makePng(3, 1, 1, 0, [Uint8Array.from([0b10100000])]));
  assert.deepEqual([...one.rgb], [255, 255, 255, 0, 0, 0, 255, 255, 255]);
});

test('decodeImage: palette PNG is looked up (palette alpha ignored)', () => {
  const plte = chunk('PLTE', Uint8Array.from([255, 0, 0, 0, 128, 255]));
  const trns = chunk('tRNS', Uint8Array.from([0, 255]));
  const img = decodeImage(makePng(3, 1, 8, 3, [Uint8Array.from([1, 0, 1])], [plte, trns]));
  assert.deepEqual([...img.rgb], [0, 128, 255, 255, 0, 0, 0, 128, 255]);
});

test('decodeImage: 16-bit RGB PNG keeps the high byte (Pillow RGB;16B)', () => {
  const row = Buffer.alloc(12);
  [0x1234, 0xffff, 0x00ff, 0x8080, 0x0100, 0xfe01].forEach((v, i) => row.writeUInt16BE(v, i * 2));
  const img = decodeImage(makePng(2, 1, 16, 2, [row]));
  assert.deepEqual([...img.rgb], [0x12, 0xff, 0x00, 0x80, 0x01, 0xfe]);
});

test('decodeImage: a tRNS colour key on a truecolour PNG keeps the pixel colour', () => {
  const trns = chunk('tRNS', Uint8Array.from([0, 10, 0, 20, 0, 30]));
  const img = decodeImage(makePng(2, 1, 8, 2, [Uint8Array.from([10, 20, 30, 1, 2, 3])], [trns]));
  assert.deepEqual([...img.rgb], [10, 20, 30, 1, 2, 3]);
});

test('decodeImage: JPEG (jpeg-js encoded, flat colour within 2 levels)', () => {
  const width = 16;
  const height = 8;
  const data = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set([200, 60, 30, 255], p * 4);
  const encoded = jpeg.encode({ width, height, data }, 100).data;
  assert.equal(sniffImageFormat(encoded), 'jpeg');
  const img = decodeImage(encoded);
  assert.equal(img.width, width);
  assert.equal(img.height, height);
  for (let p = 0; p < width * height; p++) {
    for (const [c, want] of [200, 60, 30].entries()) assert.ok(Math.abs(img.rgb[p * 3 + c]! - want) <= 2, `pixel ${p} channel ${c}: ${img.rgb[p * 3 + c]}`);
  }
});

test('decodeImage: unknown formats and named unsupported formats throw InvalidInputError', () => {
  assert.throws(() => decodeImage(new TextEncoder().encode('hello world')), (err: unknown) => {
    assert.ok(err instanceof InvalidInputError);
    assert.equal(err.code, 'E_INVALID_INPUT');
    assert.match(err.message, /not a PNG or JPEG image \(first bytes: 68 65 6c 6c/);
    return true;
  });
  assert.throws(() => decodeImage(new Uint8Array(0)), /input is empty/);
  assert.throws(() => decodeImage(new TextEncoder().encode('GIF89a....')), (err: unknown) => err instanceof InvalidInputError && /GIF images are not supported/.test(err.message));
  assert.throws(() => decodeImage(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 ')), /WEBP images are not supported/);
});

test('decodeImage: corrupt or truncated PNG and JPEG throw InvalidInputError naming the source', () => {
  const good = makePng(4, 4, 8, 2, Array.from({ length: 4 }, () => new Uint8Array(12).fill(9)));
  const truncated = good.subarray(0, good.length - 20);
  assert.throws(() => decodeImage(truncated, 'cut.png'), (err: unknown) => err instanceof InvalidInputError && /^cut\.png: corrupt PNG/.test(err.message));
  const garbage = Buffer.concat([good.subarray(0, 8), Buffer.from('this is not a chunk stream at all')]);
  assert.throws(() => decodeImage(garbage), (err: unknown) => err instanceof InvalidInputError && /corrupt PNG/.test(err.message));
  const badCrc = Buffer.from(good);
  badCrc[good.length - 20] ^= 0xff; // inside the IDAT data
  assert.throws(() => decodeImage(badCrc), InvalidInputError);
  const jpegGarbage = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 7)]);
  assert.throws(() => decodeImage(jpegGarbage, 'x.jpg'), (err: unknown) => err instanceof InvalidInputError && /^x\.jpg: corrupt/.test(err.message));
});
