/** Checks, before any work starts, that a report file can be written. */
import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { UsageError } from "../common/args.ts";

/** FILE of `--NAME FILE`, or a UsageError naming why it cannot be written (no directory, not writable, a directory). */
export function writableFileFlag(name: string, file: string | undefined): string | null {
  if (file === undefined) return null;
  if (file === "") throw new UsageError(`--${name} needs a file name`);
  const path = resolve(file);
  const dir = dirname(path);
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`--${name} ${file}: ${dir} is not a directory`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--${name} ${file}: directory ${dir} does not exist`);
  }
  let exists = true;
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`--${name} ${file}: is a directory`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    exists = false;
  }
  try {
    accessSync(exists ? path : dir, constants.W_OK);
  } catch {
    throw new UsageError(`--${name} ${file}: not writable`);
  }
  return file;
}
