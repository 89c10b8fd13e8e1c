/**
 * Flag and option values of the ABI (native/include/vlsb.h), in a module
 * that loads nothing: judges and tests that only compare values import it
 * without opening the native library. vls.ts re-exports them.
 */
export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDHUP = 0x2000;
export const EPOLLET = 0x80000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
/** O_NONBLOCK: accept flags, and what GET_FLAGS reports for a non-blocking session. */
export const O_NONBLOCK = 0o4000;
/** vlsb_create proto: TCP (VCL's VPPCOM_PROTO_TCP). */
export const PROTO_TCP = 0;
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
