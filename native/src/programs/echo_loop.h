/*
 * echo_loop.h - the native echo loop, a client of the vlsb ABI (it calls
 * only vlsb_*). abi.c exports it as vlsb_echo_loop and runs it in the
 * workers vlsb_fork_echo_workers forks; vlsb-echo runs it as a program.
 */
#ifndef VLSB_ECHO_LOOP_H
#define VLSB_ECHO_LOOP_H

/* Echoes every connection accepted on listener lh until the stop flag is
 * set (vlsb_stop_waits(1)). Returns 0, or -errno of a failed wait. */
int echo_loop_run(int lh);

#endif
