// A minimal PNG reader for tests: the header's size, and for 8-bit RGB(A) or grey images the pixels,
// so a test can tell a drawn picture from a blank one without an image library.
import { inflateSync } from "node:zlib";

export const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngImage {
  width: number;
  height: number;
  /** Bytes per pixel: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. */
  channels: number;
  pixels: Uint8Array;
}

function chunks(png: Uint8Array): { type: string; data: Uint8Array }[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: { type: string; data: Uint8Array }[] = [];
  for (let at = 8; at < png.byteLength; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    out.push({ type, data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return out;
}

export function pngSize(png: Uint8Array): { width: number; height: number } {
  const ihdr = chunks(png).find((c) => c.type === "IHDR");
  if (ihdr === undefined) throw new Error("no IHDR chunk");
  const view = new DataView(ihdr.data.buffer, ihdr.data.byteOffset, ihdr.data.byteLength);
  return { width: view.getUint32(0), height: view.getUint32(4) };
}

/** Decodes a non-interlaced 8-bit PNG (the five scanline filters of the PNG spec, section 9). */
export function decodePng(png: Uint8Array): PngImage {
  const all = chunks(png);
  const ihdr = all.find((c) => c.type === "IHDR")?.data;
  if (ihdr === undefined) throw new Error("no IHDR chunk");
  const { width, height } = pngSize(png);
  const bitDepth = ihdr[8];
  const colourType = ihdr[9] as number;
  if (bitDepth !== 8 || ihdr[12] !== 0) throw new Error("only 8-bit non-interlaced PNGs are decoded here");
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colourType];
  if (channels === undefined) throw new Error(`colour type ${colourType} is not decoded here`);
  const data = inflateSync(Buffer.concat(all.filter((c) => c.type === "IDAT").map((c) => c.data)));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = data[y * (stride + 1)] as number;
    const line = data.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? (pixels[y * stride + x - channels] as number) : 0;
      const b = y > 0 ? (pixels[(y - 1) * stride + x] as number) : 0;
      const c = x >= channels && y > 0 ? (pixels[(y - 1) * stride + x - channels] as number) : 0;
      const raw = line[x] as number;
      let value: number;
      if (filter === 0) value = raw;
      else if (filter === 1) value = raw + a;
      else if (filter === 2) value = raw + b;
      else if (filter === 3) value = raw + ((a + b) >> 1);
      else {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        value = raw + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
      pixels[y * stride + x] = value & 0xff;
    }
  }
  return { width, height, channels, pixels };
}
