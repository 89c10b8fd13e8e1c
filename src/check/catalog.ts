/** Every probe `bun run check` knows, in the order it reports them. */
import type { Probe } from "./probe.ts";
import { crossClone } from "./probes/cross-clone.ts";

export const CATALOG: readonly Probe[] = [crossClone];
