/**
 * A minimal FLAC encoder for test fixtures, written from the format specification (RFC 9639): a STREAMINFO
 * block, then fixed-blocksize frames whose subframes are all VERBATIM (samples stored as they are, no
 * prediction), independent channels, header CRC-8 and frame CRC-16. Any conforming decoder must return the
 * exact integer samples, which is what the loader tests compare against.
 */

class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private nBits = 0;

  /** Appends the low `n` bits of `value` (n ≤ 32), most significant first. */
  write(value: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | (Math.floor(value / 2 ** i) & 1);
      if (++this.nBits === 8) {
        this.bytes.push(this.acc & 0xff);
        this.acc = 0;
        this.nBits = 0;
      }
    }
  }

  /** Pads with zero bits to a byte boundary. */
  align(): void {
    while (this.nBits !== 0) this.write(0, 1);
  }

  get length(): number {
    return this.bytes.length;
  }

  toBytes(): number[] {
    if (this.nBits) throw new Error('BitWriter: not byte aligned');
    return this.bytes.slice();
  }
}

function crc8(bytes: readonly number[]): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

function crc16(bytes: readonly number[]): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x8005) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/**
 * Encodes integer PCM as a FLAC stream.
 * @param channels per channel the samples (all the same length), each within the signed `bitsPerSample` range.
 * @param blockSize samples per frame (16 … 65535); at most 127 frames (one-byte frame numbers).
 */
export function encodeFlacVerbatim(channels: readonly Int32Array[], sampleRate: number, bitsPerSample = 16, blockSize = 4096): Uint8Array {
  const n = channels[0]!.length;
  const nFrames = Math.ceil(n / blockSize);
  if (nFrames > 127) throw new Error('encodeFlacVerbatim: at most 127 frames');
  // Frame-header codes of the rate and sample size (the spec's tables; 0 would mean "see STREAMINFO").
  const rateCode = ({ 88200: 1, 176400: 2, 192000: 3, 8000: 4, 16000: 5, 22050: 8, 24000: 6, 32000: 7, 44100: 9, 48000: 10, 96000: 11 } as Record<number, number>)[sampleRate];
  const sizeCode = ({ 8: 1, 12: 2, 16: 4, 20: 5, 24: 6, 32: 7 } as Record<number, number>)[bitsPerSample];
  if (rateCode === undefined || sizeCode === undefined) throw new Error(`encodeFlacVerbatim: no frame-header code for ${sampleRate} Hz / ${bitsPerSample} bits`);
  const out: number[] = [0x66, 0x4c, 0x61, 0x43]; // fLaC
  const info = new BitWriter();
  info.write(1, 1); // last metadata block
  info.write(0, 7); // STREAMINFO
  info.write(34, 24);
  info.write(blockSize, 16);
  info.write(blockSize, 16);
  info.write(0, 24); // min frame size unknown
  info.write(0, 24); // max frame size unknown
  info.write(sampleRate, 20);
  info.write(channels.length - 1, 3);
  info.write(bitsPerSample - 1, 5);
  info.write(Math.floor(n / 2 ** 32), 4);
  info.write(n % 2 ** 32, 32);
  for (let i = 0; i < 4; i++) info.write(0, 32); // MD5 unknown
  out.push(...info.toBytes());
  for (let f = 0; f < nFrames; f++) {
    const start = f * blockSize;
    const size = Math.min(blockSize, n - start);
    const w = new BitWriter();
    w.write(0b11111111111110, 14);
    w.write(0, 1); // reserved
    w.write(0, 1); // fixed blocksize
    w.write(0b0111, 4); // block size: 16-bit (size − 1) after the frame number
    w.write(rateCode, 4);
    w.write(channels.length - 1, 4); // independent channels
    w.write(sizeCode, 3);
    w.write(0, 1); // reserved
    w.write(f, 8); // frame number (UTF-8, one byte below 128)
    w.write(size - 1, 16);
    w.write(crc8(w.toBytes()), 8);
    for (const ch of channels) {
      w.write(0, 1);
      w.write(0b000001, 6); // VERBATIM
      w.write(0, 1); // no wasted bits
      for (let i = 0; i < size; i++) {
        const v = ch[start + i]!;
        w.write(v < 0 ? v + 2 ** bitsPerSample : v, bitsPerSample);
      }
    }
    w.align();
    const frame = w.toBytes();
    const crc = crc16(frame);
    out.push(...frame, crc >> 8, crc & 0xff);
  }
  return Uint8Array.from(out);
}

/** The 16-bit PCM channels of a plain 44-byte-header WAV file (what `data/audio/` holds). */
export function wavPcm16Channels(bytes: Uint8Array): { channels: Int32Array[]; sampleRate: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nChannels = view.getUint16(22, true);
  const sampleRate = view.getUint32(24, true);
  if (view.getUint16(34, true) !== 16 || String.fromCharCode(...bytes.subarray(36, 40)) !== 'data') throw new Error('wavPcm16Channels: expected 16-bit PCM with the data chunk at byte 36');
  const n = view.getUint32(40, true) / (2 * nChannels);
  const channels = Array.from({ length: nChannels }, () => new Int32Array(n));
  for (let i = 0; i < n; i++) for (let c = 0; c < nChannels; c++) channels[c]![i] = view.getInt16(44 + (i * nChannels + c) * 2, true);
  return { channels, sampleRate };
}
