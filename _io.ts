// Writing whole buffers, fsyncing paths and looking at them: the loops and
// checks every writer of sockets and files needs, in one place.

/** Anything with Deno's async `write`: a connection or a file. */
export interface AsyncWriter {
  write(p: Uint8Array): Promise<number>;
}

/** Anything with Deno's `writeSync`: a file, stdout. */
export interface SyncWriter {
  writeSync(p: Uint8Array): number;
}

/** Writes all of `bytes` (a write may take only part of them). */
export async function writeAll(
  w: AsyncWriter,
  bytes: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await w.write(bytes.subarray(off));
}

/** Writes all of `bytes`, blocking. */
export function writeAllSync(w: SyncWriter, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += w.writeSync(bytes.subarray(off));
}

/** fsyncs a file or a directory by path. */
export async function syncPath(path: string): Promise<void> {
  const f = await Deno.open(path, { read: true });
  try {
    await f.sync();
  } finally {
    f.close();
  }
}

/** fsyncs a file or a directory by path, blocking. */
export function syncPathSync(path: string): void {
  const f = Deno.openSync(path, { read: true });
  try {
    f.syncSync();
  } finally {
    f.close();
  }
}

/** What is at `path` (Deno.statSync), or null when nothing is there or it
 * cannot be looked at: existence checks without node:fs. */
export function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}
