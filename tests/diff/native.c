/*
 * native.c — the host side of the differential test. The case's code is
 * copied to its fixed address and run on the host CPU in 64-bit mode (the
 * generator only emits encodings that mean the same there as in 32-bit
 * protected mode). Registers go in and come out through a trampoline; a
 * #DE arrives as SIGFPE and the registers at the fault come from the
 * signal context.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "diff.h"

struct regblock {
    uint32_t r[8];
    uint32_t eflags;
};
struct regblock diff_native_in, diff_native_out;
uint64_t diff_native_host_rsp;
uint64_t diff_native_entry = DIFF_CODE_ADDR;

/* diff_native_call: saves the host's callee-saved registers, loads the
 * 32-bit registers (each load zero-extends, so the high halves are 0 and
 * 64-bit string addressing equals 32-bit addressing), jumps to the code;
 * the code's tail jumps to diff_native_return, which stores them back. */
__asm__(".text\n"
        ".globl diff_native_call\n"
        "diff_native_call:\n"
        "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  mov %rsp, diff_native_host_rsp(%rip)\n"
        "  mov diff_native_in+32(%rip), %eax\n  push %rax\n  popfq\n"
        "  mov diff_native_in+0(%rip), %eax\n  mov diff_native_in+4(%rip), %ecx\n"
        "  mov diff_native_in+8(%rip), %edx\n  mov diff_native_in+12(%rip), %ebx\n"
        "  mov diff_native_in+20(%rip), %ebp\n  mov diff_native_in+24(%rip), %esi\n"
        "  mov diff_native_in+28(%rip), %edi\n  mov diff_native_in+16(%rip), %esp\n"
        "  jmp *diff_native_entry(%rip)\n"
        ".globl diff_native_return\n"
        "diff_native_return:\n"
        "  mov %eax, diff_native_out+0(%rip)\n  mov %ecx, diff_native_out+4(%rip)\n"
        "  mov %edx, diff_native_out+8(%rip)\n  mov %ebx, diff_native_out+12(%rip)\n"
        "  mov %esp, diff_native_out+16(%rip)\n  mov %ebp, diff_native_out+20(%rip)\n"
        "  mov %esi, diff_native_out+24(%rip)\n  mov %edi, diff_native_out+28(%rip)\n"
        "  pushfq\n  pop %rax\n  mov %eax, diff_native_out+32(%rip)\n"
        "  mov diff_native_host_rsp(%rip), %rsp\n  cld\n"
        "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
        "  ret\n");
void diff_native_call(void);
extern char diff_native_return[];

static sigjmp_buf fault_jmp;
static struct diff_result fault_result;
static uint8_t *code_page, *buf_page;

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
    (void)si;
    ucontext_t *uc = ctx;
    greg_t *g = uc->uc_mcontext.gregs;
    static const int order[8] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX,
                                  REG_RSP, REG_RBP, REG_RSI, REG_RDI };
    for (int i = 0; i < 8; i++)
        fault_result.regs[i] = (uint32_t)g[order[i]];
    fault_result.eflags = (uint32_t)g[REG_EFL];
    fault_result.fault_off = (uint32_t)(g[REG_RIP] - DIFF_CODE_ADDR);
    fault_result.vector = sig == SIGFPE ? 0 : sig == SIGILL ? 6 : 13;
    siglongjmp(fault_jmp, 1);
}

static void *map_fixed(uint32_t addr, uint32_t size, int prot)
{
    void *p = mmap((void *)(uintptr_t)addr, size, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED || p != (void *)(uintptr_t)addr) {
        perror("difftest: mmap at a fixed address");
        exit(2);
    }
    return p;
}

void diff_native_init(void)
{
    code_page = map_fixed(DIFF_CODE_ADDR, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
    buf_page = map_fixed(DIFF_BUF_ADDR, 4096, PROT_READ | PROT_WRITE);
    map_fixed(DIFF_STACK_TOP - 0x8000, 0x8000, PROT_READ | PROT_WRITE);

    /* Faults arrive on their own stack: the test's ESP is arbitrary. */
    static uint8_t alt_stack[65536];
    stack_t ss = { .ss_sp = alt_stack, .ss_size = sizeof(alt_stack), .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

void diff_native_run(const struct diff_case *c, struct diff_result *res)
{
    memcpy(code_page, c->code, c->code_len);
    /* Tail: jmp *[rip+0] to diff_native_return. */
    uint8_t *t = code_page + c->code_len;
    static const uint8_t jmp_abs[6] = { 0xff, 0x25, 0, 0, 0, 0 };
    memcpy(t, jmp_abs, sizeof(jmp_abs));
    uint64_t ret = (uint64_t)(uintptr_t)diff_native_return;
    memcpy(t + 6, &ret, 8);
    memcpy(buf_page, c->mem, DIFF_BUF_SIZE);
    memcpy(diff_native_in.r, c->regs, sizeof(diff_native_in.r));
    diff_native_in.eflags = c->eflags | 0x2;

    memset(res, 0, sizeof(*res));
    if (sigsetjmp(fault_jmp, 1) == 0) {
        diff_native_call();
        memcpy(res->regs, diff_native_out.r, sizeof(res->regs));
        res->eflags = diff_native_out.eflags;
        res->vector = -1;
    } else {
        __asm__ volatile("cld");
        *res = fault_result;
    }
    res->mem_hash = diff_hash(buf_page, DIFF_BUF_SIZE);
}
