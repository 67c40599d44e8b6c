// Arrow column data built straight into typed arrays from JavaScript values, without Arrow's
// vector builders: runs.arrow's last record batch is built again after every run, and a builder
// costs tens of microseconds a column before it holds a value.
import { Bool, type Data, Field, Float64, Int32, Int64, List, makeData, Utf8 } from "apache-arrow";

/** Arrow's validity bitmap of `valid` (bit i of byte i >> 3, least significant first); null when all are valid. */
function validity(length: number, valid: (i: number) => boolean): { bitmap?: Uint8Array; nullCount: number } {
  let bitmap: Uint8Array | undefined;
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    if (valid(i)) continue;
    if (bitmap === undefined) bitmap = new Uint8Array((length + 7) >> 3).fill(0xff);
    bitmap[i >> 3] = (bitmap[i >> 3] as number) & ~(1 << (i & 7));
    nullCount++;
  }
  return { bitmap, nullCount };
}

export function float64Data(values: readonly (number | null)[]): Data<Float64> {
  const { bitmap, nullCount } = validity(values.length, (i) => values[i] !== null);
  const data = Float64Array.from(values, (v) => v ?? 0);
  return makeData({ type: new Float64(), length: values.length, nullCount, nullBitmap: bitmap, data });
}

export function int32Data(values: readonly (number | null)[]): Data<Int32> {
  const { bitmap, nullCount } = validity(values.length, (i) => values[i] !== null);
  const data = Int32Array.from(values, (v) => v ?? 0);
  return makeData({ type: new Int32(), length: values.length, nullCount, nullBitmap: bitmap, data });
}

export function int64Data(values: readonly bigint[]): Data<Int64> {
  return makeData({
    type: new Int64(),
    length: values.length,
    nullCount: 0,
    data: BigInt64Array.from(values),
  });
}

export function boolData(values: readonly boolean[]): Data<Bool> {
  const bits = new Uint8Array((values.length + 7) >> 3);
  values.forEach((v, i) => {
    if (v) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
  });
  return makeData({ type: new Bool(), length: values.length, nullCount: 0, data: bits });
}

const encoder = new TextEncoder();

export function utf8Data(values: readonly (string | null)[]): Data<Utf8> {
  const { bitmap, nullCount } = validity(values.length, (i) => values[i] !== null);
  const encoded = values.map((v) => (v === null ? new Uint8Array(0) : encoder.encode(v)));
  const valueOffsets = new Int32Array(values.length + 1);
  encoded.forEach((bytes, i) => {
    valueOffsets[i + 1] = (valueOffsets[i] as number) + bytes.byteLength;
  });
  const data = new Uint8Array(valueOffsets[values.length] as number);
  encoded.forEach((bytes, i) => {
    data.set(bytes, valueOffsets[i] as number);
  });
  return makeData({
    type: new Utf8(),
    length: values.length,
    nullCount,
    nullBitmap: bitmap,
    valueOffsets,
    data,
  });
}

/** The list item field of runs.arrow's `warnings`. */
export const UTF8_LIST = new List(new Field("item", new Utf8(), true));

/** A list of strings per row (never null: an empty list where there are none). */
export function utf8ListData(values: readonly (readonly string[])[]): Data<List<Utf8>> {
  const valueOffsets = new Int32Array(values.length + 1);
  values.forEach((list, i) => {
    valueOffsets[i + 1] = (valueOffsets[i] as number) + list.length;
  });
  const child = utf8Data(values.flat());
  return makeData({ type: UTF8_LIST, length: values.length, nullCount: 0, valueOffsets, child });
}
