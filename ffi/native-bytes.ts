import { koffi } from './koffi.js';

/**
 * Native memory for what a system call's argument structure points to
 * (bpf_attr, msghdr). Allocated outside the V8 heap and freed explicitly,
 * so its address is certain to stay valid during the call.
 */
export class NativeBytes {
  private readonly pointer: unknown;
  readonly address: bigint;
  readonly bytes: Uint8Array;

  constructor(size: number) {
    this.pointer = koffi().alloc('uint8_t', size);
    this.address = koffi().address(this.pointer);
    this.bytes = new Uint8Array(koffi().view(this.pointer, size));
    this.bytes.fill(0);
  }

  static of(data: Uint8Array): NativeBytes {
    const native = new NativeBytes(data.length);
    native.bytes.set(data);
    return native;
  }

  free(): void {
    koffi().free(this.pointer);
  }
}
