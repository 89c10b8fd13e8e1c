/** Marsaglia's xorshift32: the next state after x (a non-zero int32). */
export function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x;
}
