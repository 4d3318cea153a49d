/*
 * tests/unit/test_jit_segmented.c — the JIT on code in a CS that is not
 * flat: real-mode code (16-bit code and stack in a 64 KiB CS at a
 * paragraph: translate/jit/jit.h jit_jc_seg16), with the jump cache under
 * CS base << 12 | (IP ^ base >> 4), stack instructions on SP, reads
 * through CS and far transfers; and 16-bit protected-mode code
 * (jit_jc_segmented), found in the jump cache by EIP and checked at its
 * block's entry against CS, its targets against the CS limit. Each test
 * runs a program under the interpreter and the JIT and compares where
 * they end, and counts the helper calls or dispatches the JIT needed.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/internal.h" /* cpu_load_seg_real */
#include "memory/memory.h"
#include "tests/unit/jit_engine_harness.h"

/* `m` in real mode at 1000:0000 (JE_CODE), SS 2000h, ESP `esp`, the
 * other registers 0. */
static void je_real_mode(struct je *m, uint32_t esp)
{
    cpu_reset(m->cpu);
    cpu_load_seg_real(m->cpu, SEG_CS, JE_CODE >> 4);
    cpu_load_seg_real(m->cpu, SEG_SS, 0x2000);
    m->cpu->eip = 0;
    memset(m->cpu->regs, 0, sizeof(m->cpu->regs));
    m->cpu->regs[R_ESP] = esp;
}

/* Where a run ended: the registers and CS:EIP. */
struct real_end {
    uint32_t regs[8], eip, cs;
};

static void real_end_of(const struct je *m, struct real_end *end)
{
    memcpy(end->regs, m->cpu->regs, sizeof(end->regs));
    end->eip = m->cpu->eip;
    end->cs = m->cpu->seg[SEG_CS].sel;
}

static void assert_same_end(const struct real_end *jit, const struct real_end *interp)
{
    for (int r = 0; r < 8; r++)
        cr_assert_eq(jit->regs[r], interp->regs[r], "reg %d: jit %08x interp %08x", r,
                     jit->regs[r], interp->regs[r]);
    cr_assert_eq(jit->cs, interp->cs);
    cr_assert_eq(jit->eip, interp->eip);
}

/* Real-mode code (16-bit, SS.B clear): PUSH/POP, CALL rel16, RET and
 * LOOP with CX run inline on SP, which wraps at 64 KiB and leaves ESP's
 * upper half alone, and RET's target is looked up in the jump cache by
 * CS base << 12 | IP (jit.h jit_jc_seg16). The second pass runs the same
 * linear code as 0FFF:0013 instead of 1000:0003: its blocks store other
 * IPs, so the jump cache must not hand it the first pass's. Everything
 * ends as under the interpreter, with (nearly) no helper calls. */
static const uint8_t real_code[] = {
    0xbf, 0x02, 0x00,                   /* 00 mov di, 2 */
    0xb9, 0x2c, 0x01,                   /* 03 pass: mov cx, 300 */
    0xe8, 0x14, 0x00,                   /* 06 l: call f */
    0xe8, 0xf4, 0x0f,                   /* 09 call g (1000h, another page) */
    0x51,                               /* 0c push cx */
    0x5b,                               /* 0d pop bx */
    0x01, 0x1e, 0x00, 0x01,             /* 0e add [100h], bx */
    0xe2, 0xf2,                         /* 12 loop l */
    0x4f,                               /* 14 dec di */
    0x74, 0x05,                         /* 15 jz done */
    0xea, 0x13, 0x00, 0xff, 0x0f,       /* 17 jmp 0fffh:0013h (pass again) */
    0xf4,                               /* 1c done: hlt */
    0x01, 0xce,                         /* 1d f: add si, cx */
    0xc3,                               /* 1f ret */
};
static const uint8_t real_g[] = {
    0x50,             /* 1000 g: push ax */
    0x89, 0xe0,       /* 1001 mov ax, sp */
    0x31, 0xc6,       /* 1003 xor si, ax */
    0x58,             /* 1005 pop ax */
    0xc2, 0x00, 0x00, /* 1006 ret 0 */
};

Test(jit_engine, real_mode_calls_returns_and_stack_run_inline)
{
    struct real_end end[2];
    uint32_t counter[2];
    uint8_t stack[2][16];
    unsigned long long helpers = 0;
    for (int e = 0; e < 2; e++) {
        struct je m = je_new(e ? CPU_ENGINE_JIT : CPU_ENGINE_INTERP);
        je_code(&m, real_code, sizeof(real_code));
        phys_write_buf(m.pm, JE_CODE + 0x1000, real_g, sizeof(real_g));
        je_real_mode(&m, 0xabcd0000u); /* SP 0: the first push wraps */
        cpu_load_seg_real(m.cpu, SEG_DS, 0x3000);
        for (int r = 0; r < 8; r++)
            if (r != R_ESP)
                m.cpu->regs[r] = 0x1111u * (unsigned)(r + 1);
        je_run_to_halt(&m);
        real_end_of(&m, &end[e]);
        phys_read_buf(m.pm, 0x30100, &counter[e], 4);
        phys_read_buf(m.pm, 0x2fff0, stack[e], 16);
        if (e)
            helpers = jit_stat(m.cpu, "helper calls");
        je_free(&m);
    }
    assert_same_end(&end[1], &end[0]);
    cr_assert_eq(end[1].cs, 0x0fffu);
    cr_assert_eq(end[1].eip, 0x2du, "eip %x", end[1].eip); /* after the HLT at 0FFF:002C */
    cr_assert_eq(end[1].regs[R_ESP], 0xabcd0000u);
    cr_assert_eq(counter[1], counter[0]);
    cr_assert_eq(counter[1], (2u * (300u * 301u / 2u)) & 0xffffu); /* a 16-bit sum */
    cr_assert(memcmp(stack[1], stack[0], 16) == 0);
    /* Each pass: 300 times CALL, CALL, two RETs, PUSH, POP and LOOP. */
    cr_assert_lt(helpers, 50, "%llu helper calls", helpers);
}

/* Real-mode code reads through CS inline (jump tables: CALL and JMP
 * r/m16 through them go to their targets by the jump cache) and writes
 * through CS in the handler; all as under the interpreter. */
static const uint8_t cs_code[] = {
    0xb9, 0x64, 0x00,                   /* 00 mov cx, 100 */
    0x89, 0xcb,                         /* 03 l: mov bx, cx */
    0x83, 0xe3, 0x03,                   /* 05 and bx, 3 */
    0xd1, 0xe3,                         /* 08 shl bx, 1 */
    0x2e, 0xff, 0x97, 0x37, 0x00,       /* 0a call [cs:ctab + bx] */
    0x89, 0xcb,                         /* 0f mov bx, cx */
    0x83, 0xe3, 0x01,                   /* 11 and bx, 1 */
    0xd1, 0xe3,                         /* 14 shl bx, 1 */
    0x2e, 0xff, 0xa7, 0x3f, 0x00,       /* 16 jmp [cs:jtab + bx] */
    0x2e, 0x89, 0x36, 0x00, 0x10,       /* 1b back: mov [cs:1000h], si */
    0xe2, 0xe1,                         /* 20 loop l */
    0x2e, 0xa1, 0x00, 0x10,             /* 22 mov ax, [cs:1000h] */
    0xf4,                               /* 26 hlt */
    0x46,                               /* 27 c0: inc si */
    0xc3,                               /* 28 ret */
    0x83, 0xc6, 0x05,                   /* 29 c1: add si, 5 */
    0xc3,                               /* 2c ret */
    0x83, 0xc7, 0x01,                   /* 2d j0: add di, 1 */
    0xeb, 0xe9,                         /* 30 jmp back */
    0x83, 0xc7, 0x02,                   /* 32 j1: add di, 2 */
    0xeb, 0xe4,                         /* 35 jmp back */
    0x27, 0x00, 0x29, 0x00, 0x27, 0x00, 0x29, 0x00, /* 37 ctab: c0, c1, c0, c1 */
    0x2d, 0x00, 0x32, 0x00,             /* 3f jtab: j0, j1 */
};

Test(jit_engine, real_mode_jump_tables_through_cs)
{
    struct real_end end[2];
    uint32_t var[2];
    unsigned long long helpers = 0;
    for (int e = 0; e < 2; e++) {
        struct je m = je_new(e ? CPU_ENGINE_JIT : CPU_ENGINE_INTERP);
        je_code(&m, cs_code, sizeof(cs_code));
        je_real_mode(&m, 0x1000);
        je_run_to_halt(&m);
        real_end_of(&m, &end[e]);
        var[e] = 0;
        phys_read_buf(m.pm, JE_CODE + 0x1000, &var[e], 2);
        if (e)
            helpers = jit_stat(m.cpu, "helper calls");
        je_free(&m);
    }
    assert_same_end(&end[1], &end[0]);
    cr_assert_eq(end[1].regs[R_ESI], 50u * 1 + 50u * 5);
    cr_assert_eq(end[1].regs[R_EDI], 50u * 1 + 50u * 2);
    cr_assert_eq(end[1].regs[R_EAX], end[1].regs[R_ESI]);
    cr_assert_eq(var[1], end[1].regs[R_ESI]);
    /* The 100 writes through CS; the calls and jumps through the tables
     * (200 more before) inline. */
    cr_assert_leq(helpers, 110, "%llu helper calls", helpers);
}

/* Far transfers of real-mode code (CALL FAR ptr16:16 and m16:16, RETF,
 * RETF imm16, JMP FAR) run in their handlers and go on through the jump
 * cache under the new CS base << 12 | IP instead of the dispatcher. */
static const uint8_t far_code[] = {
    0xb9, 0xc8, 0x00,                   /* 1000:0000 mov cx, 200 */
    0x9a, 0x00, 0x00, 0x00, 0x11,       /* 0003 l: call 1100h:0000h */
    0x2e, 0xff, 0x1e, 0x14, 0x00,       /* 0008 call far [cs:fptr] */
    0xe2, 0xf4,                         /* 000d loop l */
    0xea, 0x00, 0x00, 0x00, 0x12,       /* 000f jmp 1200h:0000h */
    0x08, 0x00, 0x00, 0x11,             /* 0014 fptr: 1100h:0008h */
};
static const uint8_t far_callee[] = {
    0x01, 0xce,                         /* 1100:0000 f: add si, cx */
    0xcb,                               /* 0002 retf */
    0x90, 0x90, 0x90, 0x90, 0x90,
    0x83, 0xc7, 0x03,                   /* 0008 g: add di, 3 */
    0xca, 0x00, 0x00,                   /* 000b retf 0 */
};

Test(jit_engine, real_mode_far_transfers_go_on_through_the_jump_cache)
{
    struct real_end end[2];
    unsigned long long dispatches = 0;
    for (int e = 0; e < 2; e++) {
        struct je m = je_new(e ? CPU_ENGINE_JIT : CPU_ENGINE_INTERP);
        je_code(&m, far_code, sizeof(far_code));
        phys_write_buf(m.pm, 0x11000, far_callee, sizeof(far_callee));
        static const uint8_t hlt = 0xf4;
        phys_write_buf(m.pm, 0x12000, &hlt, 1);
        je_real_mode(&m, 0x1000);
        je_run_to_halt(&m);
        real_end_of(&m, &end[e]);
        if (e)
            dispatches = jit_stat(m.cpu, "dispatches");
        je_free(&m);
    }
    assert_same_end(&end[1], &end[0]);
    cr_assert_eq(end[1].cs, 0x1200u);
    cr_assert_eq(end[1].regs[R_ESI], 200u * 201u / 2u);
    cr_assert_eq(end[1].regs[R_EDI], 600u);
    cr_assert_eq(end[1].regs[R_ESP], 0x1000u);
    /* 800 far transfers: each one a dispatch before. */
    cr_assert_lt(dispatches, 100, "%llu dispatches", dispatches);
}

/* 16-bit protected mode: the same EIPs in two code segments (18h at
 * 10000h, 20h at 20000h with a limit of 0FFFh), each calling its `f`
 * at 000Eh 100 times, on a 16-bit stack. A RET in B finds A's block for
 * EIP 0006h in the jump cache: its entry check sees another CS and
 * leaves for the dispatcher, which runs B's. Then B returns to 2000h,
 * beyond its limit: #GP(0), with no IDT a triple fault, where the
 * interpreter stops too. */
static const uint8_t pm_a[] = {
    0xb9, 0x64, 0x00,             /* 00 mov cx, 100 */
    0xe8, 0x08, 0x00,             /* 03 l: call f */
    0xe2, 0xfb,                   /* 06 loop l */
    0xea, 0x00, 0x00, 0x20, 0x00, /* 08 jmp 20h:0000h */
    0xf4,                         /* 0d hlt */
    0x83, 0xc6, 0x01,             /* 0e f: add si, 1 */
    0xc3,                         /* 11 ret */
};
static const uint8_t pm_b[] = {
    0xb9, 0x64, 0x00, /* 00 mov cx, 100 */
    0xe8, 0x08, 0x00, /* 03 l: call f */
    0xe2, 0xfb,       /* 06 loop l */
    0xbb, 0x00, 0x20, /* 08 mov bx, 2000h */
    0x53,             /* 0b push bx */
    0xc3,             /* 0c ret: beyond the limit */
    0x90,
    0x83, 0xc6, 0x64, /* 0e f: add si, 100 */
    0xc3,             /* 11 ret */
};

/* A 16-bit code segment descriptor (present, DPL 0, readable). */
static void put_code16(struct je *m, unsigned sel, uint32_t base, uint32_t limit)
{
    const uint8_t d[8] = { (uint8_t)limit, (uint8_t)(limit >> 8), (uint8_t)base,
                           (uint8_t)(base >> 8), (uint8_t)(base >> 16), 0x9a,
                           (uint8_t)((limit >> 16) & 0xf), (uint8_t)(base >> 24) };
    phys_write_buf(m->pm, JE_GDT + sel, d, sizeof(d));
}

Test(jit_engine, protected_mode_16_bit_code_checks_its_cs)
{
    struct real_end end[2];
    enum cpu_exit why[2];
    unsigned long long dispatches = 0;
    for (int e = 0; e < 2; e++) {
        struct je m = je_new(e ? CPU_ENGINE_JIT : CPU_ENGINE_INTERP);
        phys_write_buf(m.pm, 0x10000, pm_a, sizeof(pm_a));
        phys_write_buf(m.pm, 0x20000, pm_b, sizeof(pm_b));
        put_code16(&m, 0x18, 0x10000, 0xffff);
        put_code16(&m, 0x20, 0x20000, 0x0fff);
        m.cpu->gdtr = (struct dtr){ JE_GDT, 0x27 };
        m.cpu->idtr = (struct dtr){ 0, 0 };
        m.cpu->seg[SEG_CS] = (struct seg){ 0x18, 0x10000, 0xffff,
                                           AR_P | AR_S | AR_T_CODE | AR_T_READABLE |
                                               AR_T_ACCESSED };
        m.cpu->seg[SEG_SS] = (struct seg){ 0x10, 0x30000, 0xffff,
                                           AR_P | AR_S | AR_T_WRITABLE | AR_T_ACCESSED };
        cpu_mode_changed(m.cpu);
        memset(m.cpu->regs, 0, sizeof(m.cpu->regs));
        m.cpu->regs[R_ESP] = 0x1000;
        m.cpu->eip = 0;
        why[e] = cpu_exec(m.cpu, 1000000);
        real_end_of(&m, &end[e]);
        if (e)
            dispatches = jit_stat(m.cpu, "dispatches");
        je_free(&m);
    }
    cr_assert_eq(why[1], why[0], "jit %d interp %d", why[1], why[0]);
    assert_same_end(&end[1], &end[0]);
    cr_assert_eq(end[1].regs[R_ESI], 100u + 100u * 100u);
    /* 400 RETs and CALLs; the dispatcher saw each RET before. */
    cr_assert_lt(dispatches, 100, "%llu dispatches", dispatches);
}
