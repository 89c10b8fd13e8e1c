/*
 * vpp_fork_gate.h - the fork hand-over gate of the VPP backend
 * (vpp_fork_gate.c says which VPP defect it answers).
 */
#ifndef VLSB_VPP_FORK_GATE_H
#define VLSB_VPP_FORK_GATE_H

/* Registers the gate's fork handlers; must run before vls_app_create
 * registers VLS's, so the gate's run first. Idempotent; 0 or -errno. */
int vpp_fork_gate_install(void);

#endif
