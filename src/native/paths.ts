/** Where the native build lives (no bun:ffi here: usable from any module). */
import { join } from "node:path";

/** The build variant in use: release (default), debug (lock owners), asan, tsan or nolocks. */
export const nativeVariant = process.env.VLSB_NATIVE_VARIANT ?? "release";
const dirs: Record<string, string> = { release: "build", asan: "build-asan", tsan: "build-tsan", nolocks: "build-nolocks", debug: "build-debug" };
/** Absolute path of the native build directory in use. */
export const nativeBuildDir = join(import.meta.dir, "..", "..", "native", dirs[nativeVariant] ?? "build");
/** A program of the native build (c-echo, vlsb-supervise). */
export const nativeProgram = (name: string) => join(nativeBuildDir, name);
