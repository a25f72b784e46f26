import { AT, MM } from './constants.js';
import { koffi } from './koffi.js';
import { lastErrno, libc } from './libc.js';
import { SyscallError } from './syscall-error.js';

/**
 * A block of native memory laid out by hand. The call chain keeps every
 * context, stack, string and array here: outside the V8 heap, so nothing
 * moves, and copied into the child by clone(2).
 *
 * It is a mapping of its own (mmap, not malloc): its bytes start as zero
 * without being written, so a page nobody touches (the unused depth of a
 * stack, an over-estimate) costs no memory in either process, and the chain
 * can tell its own memory from Node's by address (see memory-map.ts).
 */
export class Arena {
  private readonly base: unknown;
  readonly address: bigint;
  /** The mapped length: `size` rounded up to whole pages. */
  readonly size: number;
  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  private used = 0;

  constructor(size: number) {
    this.size = Math.ceil(size / pageSize()) * pageSize();
    const base: unknown = libc().mmap(null, this.size, MM.PROT_READ | MM.PROT_WRITE, MM.MAP_PRIVATE | MM.MAP_ANONYMOUS, -1, 0);
    if (base === null || koffi().address(base) === 2n ** 64n - 1n) throw new SyscallError('mmap', lastErrno(), `${this.size} bytes for the call chain`);
    this.base = base;
    this.address = koffi().address(base);
    const buffer = koffi().view(base, this.size);
    this.view = new DataView(buffer);
    this.bytes = new Uint8Array(buffer);
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

  /** Make the page at `offset` (page-aligned) inaccessible: a stack that overflows into it faults. */
  guardPage(offset: number): void {
    if (offset % pageSize() !== 0) throw new Error(`a guard page must be page-aligned, not at ${offset}`);
    if (libc().mprotect(this.addressOf(offset), pageSize(), MM.PROT_NONE) !== 0) throw new SyscallError('mprotect', lastErrno(), 'the call chain stack guard');
  }

  release(): void {
    libc().munmap(this.base, this.size);
  }
}

let page: number | undefined;

/** The system's page size (4 KiB on x86_64; 4, 16 or 64 KiB on arm64). */
export function pageSize(): number {
  page ??= Number(libc().getauxval(AT.PAGESZ));
  return page;
}
