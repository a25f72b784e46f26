import { koffi } from './koffi.js';
import { libc } from './libc.js';

/**
 * A block of native (malloc'd) memory laid out by hand. The call chain keeps
 * every context, stack, string and array here: outside the V8 heap, so nothing
 * moves, and copied whole into the child by clone(2).
 */
export class Arena {
  private readonly base: unknown;
  readonly address: bigint;
  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  private used = 0;

  constructor(readonly size: number) {
    const base: unknown = libc().malloc(size);
    if (base === null) throw new Error(`malloc(${size}) failed`);
    this.base = base;
    this.address = koffi().address(base);
    const buffer = koffi().view(base, size);
    this.view = new DataView(buffer);
    this.bytes = new Uint8Array(buffer);
    this.bytes.fill(0);
  }

  /** Reserve `length` bytes; returns the offset. */
  reserve(length: number, align = 16): number {
    const offset = Math.ceil(this.used / align) * align;
    if (offset + length > this.size) {
      throw new Error(`arena of ${this.size} bytes is full (needed ${offset + length})`);
    }
    this.used = offset + length;
    return offset;
  }

  addressOf(offset: number): bigint {
    return this.address + BigInt(offset);
  }

  /** Copy bytes in; returns their address. */
  bytesAt(data: Uint8Array, align = 8): bigint {
    const offset = this.reserve(Math.max(data.length, 1), align);
    this.bytes.set(data, offset);
    return this.addressOf(offset);
  }

  /** A NUL-terminated copy of `text`; returns its address. */
  cString(text: string): bigint {
    if (text.includes('\0')) throw new Error(`string contains a NUL byte: ${JSON.stringify(text)}`);
    return this.bytesAt(Buffer.from(`${text}\0`, 'utf8'), 1);
  }

  /** A NULL-terminated array of C strings (argv, envp); returns its address. */
  cStringArray(items: readonly string[]): bigint {
    const pointers = items.map((s) => this.cString(s));
    const offset = this.reserve(8 * (pointers.length + 1), 8);
    pointers.forEach((p, i) => this.view.setBigUint64(offset + 8 * i, p, true));
    this.view.setBigUint64(offset + 8 * pointers.length, 0n, true);
    return this.addressOf(offset);
  }

  writeU64(offset: number, value: bigint): void {
    this.view.setBigUint64(offset, value, true);
  }

  writeI32(offset: number, value: number): void {
    this.view.setInt32(offset, value, true);
  }

  release(): void {
    libc().free(this.base);
  }
}
