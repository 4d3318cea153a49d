/*
 * translate/jit/hostfault.c — host faults that generated code takes on
 * purpose: a guest DIV or IDIV runs as the host's own DIV/IDIV with no
 * checks before it (gen_alu.c), and when the divisor is zero or the
 * quotient does not fit, the host raises #DE exactly where the guest
 * must (SDM DIV, IDIV: the same operands, the same rule). The kernel
 * turns that into SIGFPE; the handler moves the host's RIP to the
 * instruction's slow path, which runs the guest's handler (it raises the
 * guest's #DE). The guest's flags are still where the code had them: the
 * division faults before it writes anything.
 *
 * A fault site is recognised by its bytes (jit.h, JIT_DIVIDE_SITE):
 *     41 F7 F0 / 41 F7 F8   div r8d / idiv r8d
 *     EB 05                 jmp over the next (the path without a fault)
 *     E9 rel32              jmp to the slow path
 * A SIGFPE anywhere else is not ours: it goes to the handler installed
 * before this one, or ends the process as the default action would. The
 * handler runs on the alternate signal stack where the program has one.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include "translate/jit/jit.h"

static struct sigaction previous;
static bool installed;

static bool divide_site(const uint8_t *rip)
{
    return rip[0] == 0x41 && rip[1] == 0xf7 && (rip[2] == 0xf0 || rip[2] == 0xf8) &&
           rip[3] == 0xeb && rip[4] == 0x05 && rip[5] == 0xe9;
}

static void on_sigfpe(int sig, siginfo_t *info, void *context)
{
    ucontext_t *uc = context;
    uint8_t *rip = (uint8_t *)uc->uc_mcontext.gregs[REG_RIP];
    /* Linux reports a host #DE as FPE_INTDIV for both causes; only then
     * is RIP an integer division whose bytes are worth reading. */
    if (info->si_code == FPE_INTDIV && divide_site(rip)) {
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)(rip + 5);
        return;
    }
    /* Not ours: the handler that was there before gets it, as if we were
     * not installed (a program embedding Glass may catch its own #DE). */
    if (previous.sa_flags & SA_SIGINFO) {
        previous.sa_sigaction(sig, info, context);
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
    } else {
        /* The default action: put it back and let the instruction fault
         * again under it (the process ends with SIGFPE, as it would have). */
        sigaction(SIGFPE, &previous, NULL);
        installed = false;
    }
}

int jit_hostfault_install(void)
{
    if (installed)
        return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigfpe;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGFPE, &sa, &previous) != 0)
        return -1;
    installed = true;
    return 0;
}
