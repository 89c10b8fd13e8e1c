/** Builds what is stale for a variant of the native core; returns the library path. */
export function buildNative(opts?: { variant?: "release" | "asan" | "tsan" | string; tests?: boolean | string[]; quiet?: boolean }): string;
/** Sources of the core library. */
export function coreSources(): string[];
