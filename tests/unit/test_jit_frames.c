/*
 * test_jit_frames.c — the JIT's stack and frame accesses against the
 * interpreter: frames proven in one page by a block's prologue
 * (translate/jit/block.c), whose sums must not wrap around 4 GiB; the
 * frame window, which remembers the last page proven and must go with
 * any translation dropped; and calls and returns that do not pair up,
 * which any return-address predictor must get right. Small programs on
 * the bare CPU of jit_engine_harness.h.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream (jit_engine_harness.h) */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/jit_engine_harness.h"

/* ------------------------------------------------------------------ */
/* Frame accesses whose address wraps around 4 GiB                     */
/* ------------------------------------------------------------------ */

/*
 * [EBP - 10h] with EBP = 8 is linear FFFFFFF8h: the address wraps, as
 * 32-bit address arithmetic does (SDM Vol. 1 3.3.7). A frame access adds
 * the register and the displacement to the page's host address in 64
 * bits, so its prologue must prove that no access of the frame wraps:
 * with the page at FFFFF000h in the TLB and only the 32-bit sums checked,
 * the access went 4 GiB below the guest's memory (the host process
 * crashed). The same for ESP, which a block may move below 0 before an
 * [ESP + disp] access. Paging maps linear FFFFF000h to 200000h.
 */
static uint32_t wrap_frame_sum(int engine, const uint8_t *code, size_t len, uint32_t ebp,
                               uint32_t esp)
{
    static const uint8_t warm[] = {
        0xa1, 0xf8, 0xff, 0xff, 0xff, /* mov eax, [0FFFFFFF8h]: the pages in the TLB */
        0xa1, 0x08, 0x00, 0x00, 0x00, /* mov eax, [8] */
        0xeb, 0x00,                   /* jmp $+2: the next block */
    };
    struct je m = je_new(engine);
    je_map(&m, 0x100000, 7, 0x7000);
    uint32_t pde = 0x102000 | 7, pte = 0x200000 | 7;
    memcpy(m.ram + 0x100000 + 4 * 1023, &pde, 4);
    memcpy(m.ram + 0x102000 + 4 * 1023, &pte, 4);
    for (uint32_t i = 0; i < 16; i++) {
        m.ram[0x200ff0 + i] = (uint8_t)(0x10 + i);
        m.ram[i] = (uint8_t)(0x40 + i);
    }
    je_paging_on(&m, 0x100000, false);
    je_code(&m, warm, sizeof(warm));
    phys_write_buf(m.pm, JE_CODE + sizeof(warm), code, len);
    m.cpu->regs[R_EBP] = ebp;
    m.cpu->regs[R_ESP] = esp;
    je_run_to_halt(&m);
    uint32_t eax = m.cpu->regs[R_EAX];
    je_free(&m);
    return eax;
}

Test(jit_engine, frame_accesses_that_wrap_around_4g)
{
    static const uint8_t by_ebp[] = {
        0x8b, 0x45, 0xf0, /* mov eax, [ebp - 10h] */
        0x03, 0x45, 0xf4, /* add eax, [ebp - 0Ch] */
        0xf4,             /* hlt */
    };
    static const uint8_t by_esp[] = {
        0x83, 0xec, 0x10,       /* sub esp, 10h: ESP = FFFFFFF8h */
        0x8b, 0x44, 0x24, 0x00, /* mov eax, [esp] */
        0x03, 0x44, 0x24, 0x04, /* add eax, [esp + 4] */
        0xf4,                   /* hlt */
    };
    static const uint8_t by_esp_below_0[] = {
        0x83, 0xec, 0x10,       /* sub esp, 10h: ESP = FFFFFFF8h */
        0x8b, 0x44, 0x24, 0x10, /* mov eax, [esp + 10h]: linear 8 */
        0x03, 0x44, 0x24, 0x14, /* add eax, [esp + 14h] */
        0xf4,                   /* hlt */
    };
    /* Little-endian dwords at FFFFFFF8h and FFFFFFFCh, 8 and 0Ch. */
    const uint32_t high = 0x1b1a1918u + 0x1f1e1d1cu, low = 0x4b4a4948u + 0x4f4e4d4cu;
    for (int engine = CPU_ENGINE_INTERP; engine <= CPU_ENGINE_JIT; engine++) {
        cr_assert_eq(wrap_frame_sum(engine, by_ebp, sizeof(by_ebp), 8, JE_STACK), high,
                     "engine %d, EBP", engine);
        cr_assert_eq(wrap_frame_sum(engine, by_esp, sizeof(by_esp), 0, 8), high,
                     "engine %d, ESP", engine);
        cr_assert_eq(wrap_frame_sum(engine, by_esp_below_0, sizeof(by_esp_below_0), 0, 8), low,
                     "engine %d, ESP below 0", engine);
    }
}

/*
 * A frame covers each access's bytes: an x87 operand is up to 10 bytes,
 * not the 4 of an integer one. FILD QWORD [EBP - 8] with EBP = 7004h
 * reads 6FFCh-7003h, across into the page at 7000h, which paging maps to
 * 9000h; the frame's proof (from [EBP - 10h], FISTP's operand, to the
 * last byte of FILD's) must see the second page, and the value must come
 * from 9000h. Until 2026-12-07 the proof took 4 bytes for every access,
 * and the read went on past the first page's host memory.
 */
Test(jit_engine, frame_covers_wide_x87_operands)
{
    static const uint8_t code[] = {
        0xdb, 0xe3,                   /* fninit */
        0xa3, 0xf0, 0x6f, 0x00, 0x00, /* mov [6FF0h], eax: the page in the TLB */
        0xeb, 0x00,                   /* jmp $+2 */
        0xdf, 0x6d, 0xf8,             /* fild qword [ebp - 8] */
        0xdf, 0x7d, 0xf0,             /* fistp qword [ebp - 10h] */
        0xf4,                         /* hlt */
    };
    static const uint8_t low[4] = { 0x11, 0x22, 0x33, 0x44 }, high[4] = { 0x55, 0x66, 0x77, 0x08 };
    static const uint8_t wrong[4] = { 0xee, 0xee, 0xee, 0xee };
    for (int engine = CPU_ENGINE_INTERP; engine <= CPU_ENGINE_JIT; engine++) {
        struct je m = je_new(engine);
        je_map(&m, 0x100000, 7, 0x9000);
        je_paging_on(&m, 0x100000, false);
        memcpy(m.ram + 0x6ffc, low, 4);
        memcpy(m.ram + 0x9000, high, 4);
        memcpy(m.ram + 0x7000, wrong, 4); /* physical 7000h: not mapped */
        m.cpu->regs[R_EBP] = 0x7004;
        je_code(&m, code, sizeof(code));
        je_run_to_halt(&m);
        cr_assert_eq(memcmp(m.ram + 0x6ff4, low, 4), 0, "engine %d", engine);
        cr_assert_eq(memcmp(m.ram + 0x6ff8, high, 4), 0, "engine %d: %02x %02x %02x %02x",
                     engine, m.ram[0x6ff8], m.ram[0x6ff9], m.ram[0x6ffa], m.ram[0x6ffb]);
        je_free(&m);
    }
}

/*
 * REP MOVSD runs over several pages in one host copy where their RAM is
 * consecutive (cpu/string.c span_beyond_page), but never over a page that
 * holds translated code: its TLB entry is not writable on the fast path,
 * so the run stops there and the element path drops the block. Here a
 * 16 KiB copy to 30000h rewrites the function at 32000h (MOV EAX, 1 /
 * RET becomes MOV EAX, 2 / RET) after it ran once.
 */
Test(jit_engine, rep_movs_over_pages_rewrites_code_in_them)
{
    static const uint8_t code[] = {
        0xe8, 0xfb, 0x1f, 0x02, 0x00, /* call 32000h */
        0x89, 0xc3,                   /* mov ebx, eax */
        0xbe, 0x00, 0x00, 0x04, 0x00, /* mov esi, 40000h */
        0xbf, 0x00, 0x00, 0x03, 0x00, /* mov edi, 30000h */
        0xb9, 0x00, 0x10, 0x00, 0x00, /* mov ecx, 1000h */
        0xfc,                         /* cld */
        0xf3, 0xa5,                   /* rep movsd */
        0xe8, 0xe2, 0x1f, 0x02, 0x00, /* call 32000h */
        0xf4,                         /* hlt */
    };
    static const uint8_t old_fn[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3 };
    static const uint8_t new_fn[] = { 0xb8, 0x02, 0x00, 0x00, 0x00, 0xc3 };
    for (int engine = CPU_ENGINE_INTERP; engine <= CPU_ENGINE_JIT; engine++) {
        struct je m = je_new(engine);
        for (uint32_t i = 0; i < 0x4000; i++)
            m.ram[0x40000 + i] = (uint8_t)(i * 13 + 5);
        memcpy(m.ram + 0x32000, old_fn, sizeof(old_fn));
        memcpy(m.ram + 0x42000, new_fn, sizeof(new_fn));
        je_code(&m, code, sizeof(code));
        je_run_to_halt(&m);
        cr_assert_eq(m.cpu->regs[R_EBX], 1u, "engine %d", engine);
        cr_assert_eq(m.cpu->regs[R_EAX], 2u, "engine %d: the old code ran", engine);
        cr_assert_eq(memcmp(m.ram + 0x30000, m.ram + 0x40000, 0x4000), 0, "engine %d", engine);
        je_free(&m);
    }
}

/*
 * A frame's range is kept in 64 bits: [EBP + 7FFFFFFDh]'s last byte is
 * 80000000h past EBP, which in 32 bits became INT32_MIN, so the operand
 * fell out of the range while still counted in the frame, and with EBP =
 * 80000001h its access went 4 GiB past the page the prologue had proved
 * ([EBP - 7FFE0018h]): the host crashed. Found by fuzz_jit (user mode,
 * GLASS_FUZZ_SEED=263). Now such a block has no frame, and both engines
 * read open bus at FFFFFFFEh alike.
 */
Test(jit_engine, frame_range_beyond_int32_is_no_frame)
{
    static const uint8_t code[] = {
        0xa1, 0xe9, 0xff, 0x01, 0x00,             /* mov eax, [1FFE9h]: the page in the TLB */
        0xeb, 0x00,                               /* jmp $+2 */
        0x83, 0x9d, 0xfd, 0xff, 0xff, 0x7f, 0xb8, /* sbb dword [ebp + 7FFFFFFDh], -48h */
        0x8b, 0x9d, 0xfd, 0xff, 0xff, 0x7f,       /* mov ebx, [ebp + 7FFFFFFDh] */
        0x8b, 0x85, 0xe8, 0xff, 0x01, 0x80,       /* mov eax, [ebp - 7FFE0018h]: 1FFE9h */
        0xf4,                                     /* hlt */
    };
    uint32_t eax[2], ebx[2];
    for (int engine = CPU_ENGINE_INTERP; engine <= CPU_ENGINE_JIT; engine++) {
        struct je m = je_new(engine);
        static const uint8_t v[4] = { 0x78, 0x56, 0x34, 0x12 };
        memcpy(m.ram + 0x1ffe9, v, 4);
        m.cpu->regs[R_EBP] = 0x80000001u;
        je_code(&m, code, sizeof(code));
        je_run_to_halt(&m);
        eax[engine == CPU_ENGINE_JIT] = m.cpu->regs[R_EAX];
        ebx[engine == CPU_ENGINE_JIT] = m.cpu->regs[R_EBX];
        je_free(&m);
    }
    cr_assert_eq(eax[0], 0x12345678u);
    cr_assert_eq(eax[1], eax[0]);
    cr_assert_eq(ebx[1], ebx[0], "open bus at FFFFFFFEh: %08x / %08x", ebx[0], ebx[1]);
}

/*
 * An ESP frame covers the stack slots of PUSH, POP, CALL and RET only when
 * SS is flat: here SS has base 1000h, and the block's [ESP + disp]
 * operands go through DS. Until 2026-12-07 those made an ESP frame, and
 * the CALL at the block's end pushed its return address through it: to
 * DS:ESP-4, 1000h below SS:ESP-4 and outside the range proved (found by
 * fuzz_jit, flat, GLASS_FUZZ_SEED=232: a RET then went to an older return
 * address). POP EAX in the callee must read what the CALL pushed.
 */
Test(jit_engine, esp_frame_needs_a_flat_stack_segment)
{
    static const uint8_t code[] = {
        0xa3, 0x40, 0x00, 0x08, 0x00,       /* mov [80040h], eax: the page in the TLB */
        0xeb, 0x00,                         /* jmp $+2 */
        0x3e, 0xf7, 0x54, 0x24, 0x40,       /* not dword ds:[esp + 40h] */
        0x3e, 0xf7, 0x54, 0x24, 0x44,       /* not dword ds:[esp + 44h] */
        0xe8, 0x00, 0x01, 0x00, 0x00,       /* call $+105h */
        0xf4,
    };
    static const uint8_t callee[] = { 0x58, 0xf4 }; /* pop eax; hlt */
    for (int engine = CPU_ENGINE_INTERP; engine <= CPU_ENGINE_JIT; engine++) {
        struct je m = je_new(engine);
        m.cpu->seg[SEG_SS].base = 0x1000;
        m.cpu->seg[SEG_SS].limit = 0xfffff;
        m.cpu->seg[SEG_SS].ar &= ~(uint32_t)AR_G;
        je_code(&m, code, sizeof(code));
        phys_write_buf(m.pm, JE_CODE + 22 + 0x100, callee, sizeof(callee));
        je_run_to_halt(&m);
        cr_assert_eq(m.cpu->regs[R_EAX], JE_CODE + 22, "engine %d: popped %08x", engine,
                     m.cpu->regs[R_EAX]);
        cr_assert_eq(m.cpu->regs[R_ESP], JE_STACK, "engine %d", engine);
        je_free(&m);
    }
}

/* ------------------------------------------------------------------ */
/* Calls and returns that do not pair up: what a return-address
 * predictor (host CALL/RET for guest CALL/RET, tried: ARCHITECTURE)
 * must get right, as the interpreter runs it. */
/* ------------------------------------------------------------------ */

/* Ten times (the count at 90020h): fib(12) by recursion; 50 times
 * `call next; next: pop ebx` (a frame never returned through); RET 8;
 * a function that moves to another stack and returns from there; a
 * longjmp (lj_g returns to lj_f's caller, past lj_f's frame); recursion
 * 90000 deep (a predictor keeping a host frame a call must bound them).
 * Sums at 90000h + 0, 4, 8, 12, 16. */
static const uint8_t frames_code[] = {
    0xb9, 0x0c, 0x00, 0x00, 0x00,             /* 00 start: mov ecx, 12 */
    0xe8, 0x5d, 0x00, 0x00, 0x00,             /* 05 call fib */
    0x01, 0x05, 0x00, 0x00, 0x09, 0x00,       /* 0a add [90000h], eax */
    0xb9, 0x32, 0x00, 0x00, 0x00,             /* 10 mov ecx, 50 */
    0xe8, 0x00, 0x00, 0x00, 0x00,             /* 15 gp: call next */
    0x5b,                                     /* 1a next: pop ebx */
    0x01, 0xde,                               /* 1b add esi, ebx */
    0x49,                                     /* 1d dec ecx */
    0x75, 0xf5,                               /* 1e jnz gp */
    0x6a, 0x07,                               /* 20 push 7 */
    0x6a, 0x09,                               /* 22 push 9 */
    0xe8, 0x5f, 0x00, 0x00, 0x00,             /* 24 call addargs */
    0x01, 0x05, 0x04, 0x00, 0x09, 0x00,       /* 29 add [90004h], eax */
    0xe8, 0x5f, 0x00, 0x00, 0x00,             /* 2f call switcher */
    0x01, 0x25, 0x08, 0x00, 0x09, 0x00,       /* 34 add [90008h], esp */
    0x5c,                                     /* 3a pop esp */
    0x83, 0xc4, 0x04,                         /* 3b add esp, 4 */
    0xe8, 0x5d, 0x00, 0x00, 0x00,             /* 3e call lj_f */
    0x83, 0xc7, 0x01,                         /* 43 add edi, 1 */
    0x01, 0x3d, 0x0c, 0x00, 0x09, 0x00,       /* 46 add [9000ch], edi */
    0xb9, 0x90, 0x5f, 0x01, 0x00,             /* 4c mov ecx, 90000 */
    0x31, 0xc0,                               /* 51 xor eax, eax */
    0xe8, 0x5b, 0x00, 0x00, 0x00,             /* 53 call deep */
    0x01, 0x05, 0x10, 0x00, 0x09, 0x00,       /* 58 add [90010h], eax */
    0xff, 0x0d, 0x20, 0x00, 0x09, 0x00,       /* 5e dec dword [90020h] */
    0x75, 0x9a,                               /* 64 jnz start */
    0xf4,                                     /* 66 hlt */
    0x83, 0xf9, 0x02,                         /* 67 fib: cmp ecx, 2 */
    0x72, 0x19,                               /* 6a jb small */
    0x51,                                     /* 6c push ecx */
    0x49,                                     /* 6d dec ecx */
    0xe8, 0xf4, 0xff, 0xff, 0xff,             /* 6e call fib */
    0x50,                                     /* 73 push eax */
    0x8b, 0x4c, 0x24, 0x04,                   /* 74 mov ecx, [esp + 4] */
    0x83, 0xe9, 0x02,                         /* 78 sub ecx, 2 */
    0xe8, 0xe7, 0xff, 0xff, 0xff,             /* 7b call fib */
    0x5a,                                     /* 80 pop edx */
    0x01, 0xd0,                               /* 81 add eax, edx */
    0x59,                                     /* 83 pop ecx */
    0xc3,                                     /* 84 ret */
    0x89, 0xc8,                               /* 85 small: mov eax, ecx */
    0xc3,                                     /* 87 ret */
    0x8b, 0x44, 0x24, 0x04,                   /* 88 addargs: mov eax, [esp + 4] */
    0x03, 0x44, 0x24, 0x08,                   /* 8c add eax, [esp + 8] */
    0xc2, 0x08, 0x00,                         /* 90 ret 8 */
    0x8b, 0x04, 0x24,                         /* 93 switcher: mov eax, [esp] */
    0x89, 0xe2,                               /* 96 mov edx, esp */
    0xbc, 0x00, 0x00, 0x06, 0x00,             /* 98 mov esp, 60000h */
    0x52,                                     /* 9d push edx */
    0x50,                                     /* 9e push eax */
    0xc3,                                     /* 9f ret */
    0x55,                                     /* a0 lj_f: push ebp */
    0x89, 0xe5,                               /* a1 mov ebp, esp */
    0xe8, 0x07, 0x00, 0x00, 0x00,             /* a3 call lj_g */
    0xbf, 0xe8, 0x03, 0x00, 0x00,             /* a8 mov edi, 1000 (never) */
    0x5d,                                     /* ad pop ebp */
    0xc3,                                     /* ae ret */
    0x89, 0xec,                               /* af lj_g: mov esp, ebp */
    0x5d,                                     /* b1 pop ebp */
    0xc3,                                     /* b2 ret */
    0x40,                                     /* b3 deep: inc eax */
    0x49,                                     /* b4 dec ecx */
    0x74, 0x05,                               /* b5 jz out */
    0xe8, 0xf7, 0xff, 0xff, 0xff,             /* b7 call deep */
    0xc3,                                     /* bc out: ret */
};

#define FRAMES_OUT 0x90000u /* above the stack (JE_STACK), which goes down to 28000h */

static struct je frames_run(int engine)
{
    struct je m = je_new(engine);
    je_code(&m, frames_code, sizeof(frames_code));
    uint32_t rounds = 10;
    phys_write_buf(m.pm, FRAMES_OUT + 0x20, &rounds, 4);
    m.cpu->regs[R_ESI] = m.cpu->regs[R_EDI] = 0;
    je_run_to_halt(&m);
    return m;
}

Test(jit_engine, calls_and_returns_that_do_not_pair_up_as_the_interpreter_runs_them)
{
    struct je i = frames_run(CPU_ENGINE_INTERP);
    struct je j = frames_run(CPU_ENGINE_JIT);
    for (unsigned k = 0; k < 5; k++) {
        uint32_t a, b;
        phys_read_buf(i.pm, FRAMES_OUT + 4 * k, &a, 4);
        phys_read_buf(j.pm, FRAMES_OUT + 4 * k, &b, 4);
        cr_assert_eq(a, b, "sum %u: interpreter %08x, JIT %08x", k, a, b);
    }
    uint32_t fib, args, deep;
    phys_read_buf(j.pm, FRAMES_OUT, &fib, 4);
    phys_read_buf(j.pm, FRAMES_OUT + 4, &args, 4);
    phys_read_buf(j.pm, FRAMES_OUT + 16, &deep, 4);
    cr_assert_eq(fib, 10 * 144u);
    cr_assert_eq(args, 10 * 16u);
    cr_assert_eq(deep, 10 * 90000u);
    for (unsigned r = 0; r < 8; r++)
        cr_assert_eq(i.cpu->regs[r], j.cpu->regs[r], "reg %u: %08x / %08x", r, i.cpu->regs[r],
                     j.cpu->regs[r]);
    cr_assert_eq(j.cpu->regs[R_ESP], JE_STACK);
    cr_assert_eq(j.cpu->regs[R_EDI], 10u);
    je_free(&i);
    je_free(&j);
}

/* A callee that reloads CR3 so that its caller's page maps other code:
 * the return must run the new mapping's code, not the block the call's
 * exit was linked to before.
 * Linear 7000h is physical 7000h under the directory at 100000h and
 * 9000h under the one at 102000h; the function at 20000h switches on
 * its tenth call. */
static struct je remap_run(int engine)
{
    /* The two callers differ in the immediate at 7007h: 1 at physical
     * 7000h, 100 at 9000h. */
    uint8_t caller[] = {
        0xe8, 0xfb, 0x8f, 0x01, 0x00, /* 7000 again: call 20000h */
        0x83, 0xc3, 0x01,             /* 7005 add ebx, 1 */
        0x49,                         /* 7008 dec ecx */
        0x75, 0xf5,                   /* 7009 jnz again */
        0xf4,                         /* 700b hlt */
    };
    static const uint8_t callee[] = {
        0x4e,                         /* 20000 dec esi */
        0x75, 0x08,                   /* 20001 jnz out */
        0xb8, 0x00, 0x20, 0x10, 0x00, /* 20003 mov eax, 102000h */
        0x0f, 0x22, 0xd8,             /* 20008 mov cr3, eax */
        0xc3,                         /* 2000b out: ret */
    };
    struct je m = je_new(engine);
    phys_write_buf(m.pm, 0x7000, caller, sizeof(caller));
    caller[7] = 100;
    phys_write_buf(m.pm, 0x9000, caller, sizeof(caller));
    phys_write_buf(m.pm, 0x20000, callee, sizeof(callee));
    je_map(&m, 0x100000, 3, 0x7000);
    je_map(&m, 0x102000, 3, 0x9000);
    je_paging_on(&m, 0x100000, false);
    m.cpu->eip = 0x7000;
    m.cpu->regs[R_ECX] = 20;
    m.cpu->regs[R_ESI] = 10;
    m.cpu->regs[R_EBX] = 0;
    je_run_to_halt(&m);
    return m;
}

Test(jit_engine, a_return_after_mov_cr3_runs_the_new_mapping)
{
    /* Nine returns to the first mapping's code, then eleven to the
     * second's. */
    struct je i = remap_run(CPU_ENGINE_INTERP);
    cr_assert_eq(i.cpu->regs[R_EBX], 9u + 11u * 100u);
    je_free(&i);
    struct je j = remap_run(CPU_ENGINE_JIT);
    cr_assert_eq(j.cpu->regs[R_EBX], 9u + 11u * 100u, "ebx %u", j.cpu->regs[R_EBX]);
    je_free(&j);
}

/* ------------------------------------------------------------------ */
/* The frame window (memory.h, block.c): the page of the last frame
 * check that found reads and writes fast, which later frame checks in
 * that page take without a lookup. Whatever drops or narrows a
 * translation must empty it. */
/* ------------------------------------------------------------------ */

/* A function reading the word above its return address, called 100
 * times with the stack in linear page 7000h, then page 7000h remapped
 * from physical 7000h to 9000h and 100 calls more: the second hundred
 * read the new page (1000 there, 1 in the old). `cr3`: by MOV CR3 to a
 * second page directory; else by the PTE and INVLPG. */
static void frame_window_remap(bool cr3)
{
    uint8_t code[] = {
        0xbc, 0x00, 0x78, 0x00, 0x00,                               /* mov esp, 7800h */
        0xb9, 0x64, 0x00, 0x00, 0x00,                               /* mov ecx, 100 */
        0xe8, 0x22, 0x00, 0x00, 0x00,                               /* l1: call f */
        0x49,                                                       /* dec ecx */
        0x75, 0xf8,                                                 /* jnz l1 */
        0xc7, 0x05, 0x1c, 0x10, 0x10, 0x00, 0x03, 0x90, 0x00, 0x00, /* mov [10101ch], 9003h */
        0x0f, 0x01, 0x3d, 0x00, 0x70, 0x00, 0x00,                   /* invlpg [7000h] */
        0xb9, 0x64, 0x00, 0x00, 0x00,                               /* mov ecx, 100 */
        0xe8, 0x04, 0x00, 0x00, 0x00,                               /* l2: call f */
        0x49,                                                       /* dec ecx */
        0x75, 0xf8,                                                 /* jnz l2 */
        0xf4,                                                       /* hlt */
        0x8b, 0x44, 0x24, 0x04,                                     /* f: mov eax, [esp + 4] */
        0x01, 0xc3,                                                 /* add ebx, eax */
        0xc3,                                                       /* ret */
    };
    static const uint8_t by_cr3[17] = {
        0xb8, 0x00, 0x20, 0x10, 0x00, /* mov eax, 102000h */
        0x0f, 0x22, 0xd8,             /* mov cr3, eax */
        0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
    };
    if (cr3)
        memcpy(code + 18, by_cr3, sizeof(by_cr3)); /* over the PTE store and INVLPG */
    for (int engine = CPU_ENGINE_INTERP; engine <= CPU_ENGINE_JIT; engine++) {
        struct je m = je_new(engine);
        je_code(&m, code, sizeof(code));
        uint32_t old = 1, new = 1000;
        memcpy(m.ram + 0x7800, &old, 4);
        memcpy(m.ram + 0x9800, &new, 4);
        je_map(&m, 0x100000, 3, 0x7000);
        je_map(&m, 0x102000, 3, 0x9000);
        je_paging_on(&m, 0x100000, false);
        m.cpu->regs[R_EBX] = 0;
        je_run_to_halt(&m);
        cr_assert_eq(m.cpu->regs[R_EBX], 100u * 1 + 100u * 1000, "engine %d: ebx %u", engine,
                     m.cpu->regs[R_EBX]);
        je_free(&m);
    }
}

Test(jit_engine, frame_window_follows_invlpg)
{
    frame_window_remap(false);
}

Test(jit_engine, frame_window_follows_mov_cr3)
{
    frame_window_remap(true);
}

/* Code in the stack's page: `mov eax, imm32; ret` at 7400h, the stack at
 * 7800h, the page made the frame window first (PUSH and POP, a frame
 * that reads and writes). Each call translates the function (its page
 * becomes a code page), then a store through ESP (the frame) rewrites
 * its immediate with ECX: the store must reach the code's translation,
 * so the window must go when the page becomes code. Returns 1, then 50,
 * 49, ... 2. */
Test(jit_engine, frame_window_store_into_code_on_the_stack_page)
{
    static const uint8_t code[] = {
        0xbc, 0x00, 0x78, 0x00, 0x00,                               /* mov esp, 7800h */
        0xb9, 0x14, 0x00, 0x00, 0x00,                               /* mov ecx, 20 */
        0x51,                                                       /* w: push ecx */
        0x59,                                                       /* pop ecx */
        0x49,                                                       /* dec ecx */
        0x75, 0xfb,                                                 /* jnz w */
        0xc7, 0x05, 0x00, 0x74, 0x00, 0x00, 0xb8, 0x01, 0x00, 0x00, /* mov [7400h], ... */
        0xc7, 0x05, 0x04, 0x74, 0x00, 0x00, 0x00, 0xc3, 0x90, 0x90, /* mov [7404h], ... */
        0xb9, 0x32, 0x00, 0x00, 0x00,                               /* mov ecx, 50 */
        0xe8, 0xd3, 0x73, 0xff, 0xff,                               /* l: call 7400h */
        0x01, 0xc3,                                                 /* add ebx, eax */
        0x51,                                                       /* push ecx */
        0x59,                                                       /* pop ecx */
        0x89, 0x8c, 0x24, 0x01, 0xfc, 0xff, 0xff,                   /* mov [esp - 3ffh], ecx */
        0x49,                                                       /* dec ecx */
        0x75, 0xed,                                                 /* jnz l */
        0xf4,                                                       /* hlt */
    };
    for (int engine = CPU_ENGINE_INTERP; engine <= CPU_ENGINE_JIT; engine++) {
        struct je m = je_new(engine);
        je_code(&m, code, sizeof(code));
        je_map(&m, 0x100000, 3, 0x7000);
        je_paging_on(&m, 0x100000, false);
        m.cpu->regs[R_EBX] = 0;
        je_run_to_halt(&m);
        cr_assert_eq(m.cpu->regs[R_EBX], 1u + (2u + 50u) * 49u / 2, "engine %d: ebx %u", engine,
                     m.cpu->regs[R_EBX]);
        je_free(&m);
    }
}

/* The frame window's path has no jump over the full lookup: that goes
 * out of line, and comes back after the window's addend (block.c
 * emit_frame_check). The call row of make bench: 1.06 -> 0.98 s at 3000
 * rounds; 1.00 -> 0.90 s more with the RET's straight path below. Both
 * ways give the interpreter's result. */
Test(jit_engine, frame_window_path_runs_straight_into_the_body)
{
    static const uint8_t code[] = {
        0xbc, 0x00, 0x70, 0x00, 0x00, /* mov esp, 7000h */
        0xb9, 0x03, 0x00, 0x00, 0x00, /* mov ecx, 3 */
        0xe8, 0x03, 0x00, 0x00, 0x00, /* l: call f */
        0xe2, 0xf9,                   /* loop l */
        0xf4,                         /* hlt */
        0x8b, 0x44, 0x24, 0x04,       /* f: mov eax, [esp + 4] */
        0x03, 0x44, 0x24, 0x08,       /* add eax, [esp + 8] */
        0x89, 0x44, 0x24, 0x0c,       /* mov [esp + 12], eax */
        0x01, 0xc3,                   /* add ebx, eax */
        0xc3,                         /* ret */
    };
    struct je m = je_new(CPU_ENGINE_JIT);
    je_code(&m, code, sizeof(code));
    je_run_collecting_host_code(&m);
    const char *text = je_host_text();
    const char *sub = strstr(text, "sub r11, qword ptr [r15 + ");
    cr_assert_not_null(sub, "no frame window check:\n%s", text);
    const char *ja = strstr(sub, "\nja ");
    cr_assert_not_null(ja, "%s", text);
    const char *addend = strchr(ja + 1, '\n');
    cr_assert(addend && !strncmp(addend + 1, "mov r13, qword ptr [r15 + ", 26), "%s", text);
    const char *next = strchr(addend + 1, '\n');
    cr_assert(next && strncmp(next + 1, "jmp ", 4), "a jump after the window's addend:\n%s",
              text);
    /* And a RET's target taken again from cpu->eip after its slow path
     * is reloaded in the slow path's stub, right after the handler's
     * call (gen_ctrl.c indirect_tail), not inline behind a jump that
     * every return took. */
    char reload[64];
    snprintf(reload, sizeof(reload), "\nmov r11d, dword ptr [r15 + 0x%x]\n",
             (unsigned)offsetof(struct cpu, eip));
    for (const char *r = strstr(text, reload); r; r = strstr(r + 1, reload)) {
        const char *line = r;
        while (line > text && line[-1] != '\n')
            line--;
        cr_assert(!strncmp(line, "call ", 5), "a reload not after the handler's call:\n%s", text);
    }
    uint32_t got = m.cpu->regs[R_EBX];
    je_free(&m);
    struct je ref = je_new(CPU_ENGINE_INTERP);
    je_code(&ref, code, sizeof(code));
    je_run_to_halt(&ref);
    cr_assert_eq(got, ref.cpu->regs[R_EBX]);
    je_free(&ref);
}

/* ------------------------------------------------------------------ */
/* Deferred ESP                                                        */
/* ------------------------------------------------------------------ */

/*
 * In a block whose frame register is ESP, PUSH, POP and ADD/SUB ESP with
 * dead flags only count the move (gen_ctrl.c "Deferred ESP"); one LEA
 * makes R12 the guest's ESP before anything else can see it. Here f's
 * CALL [ESI] reads a table on a page not met before, below 1 MiB with
 * paging off: its read leaves the direct window for the TLB lookup's
 * stub, misses, and the handler pushes the return address at ESP. That
 * way reached the slow path past the sync (fuzz_jit flat, seed 7101):
 * the push went 20h too high, over f's saved registers.
 */
Test(jit_engine, deferred_esp_moves_take_one_lea_and_slow_paths_see_them)
{
    static const uint8_t code[] = {
        0xbe, 0x00, 0x00, 0x03, 0x00, /* mov esi, 30000h */
        0xb9, 0x04, 0x00, 0x00, 0x00, /* mov ecx, 4 */
        0x31, 0xd2,                   /* xor edx, edx */
        0xe8, 0x09, 0x00, 0x00, 0x00, /* l: call f */
        0x81, 0xc6, 0x00, 0x10, 0x00, 0x00, /* add esi, 1000h: a page not met yet */
        0xe2, 0xf3,                   /* loop l */
        0xf4,                         /* hlt */
        0x55, 0x57, 0x56, 0x53,       /* f: push ebp, edi, esi, ebx */
        0x83, 0xec, 0x10,             /* sub esp, 10h (CMP overwrites its flags) */
        0x39, 0xd0,                   /* cmp eax, edx */
        0x89, 0x4c, 0x24, 0x04,       /* mov [esp + 4], ecx */
        0xff, 0x16,                   /* call [esi] (g) */
        0x83, 0xc4, 0x10,             /* add esp, 10h */
        0x5b, 0x5e, 0x5f, 0x5d,       /* pop ebx, esi, edi, ebp */
        0xc3,                         /* ret */
        0x8b, 0x44, 0x24, 0x08,       /* g: mov eax, [esp + 8] (f's [esp + 4]) */
        0x01, 0xc2,                   /* add edx, eax */
        0xc3,                         /* ret */
    };
    const uint32_t g = JE_CODE + sizeof(code) - 7;
    struct je m[2] = { je_new(CPU_ENGINE_JIT), je_new(CPU_ENGINE_INTERP) };
    for (int e = 0; e < 2; e++) {
        je_code(&m[e], code, sizeof(code));
        for (uint32_t p = 0; p < 4; p++)
            memcpy(m[e].ram + 0x30000 + p * 0x1000, &g, 4);
        m[e].cpu->regs[R_EBX] = 0x1234;
        m[e].cpu->regs[R_EBP] = 0x5678;
    }
    je_run_collecting_host_code(&m[0]);
    je_run_to_halt(&m[1]);
    const char *text = je_host_text();
    /* The pushes at -4, -8, ...: no LEA of R12 between them; the pops
     * straight into their registers. */
    cr_assert_not_null(strstr(text, "mov dword ptr [r13 + r12 - 4], ebp\n"
                                    "mov dword ptr [r13 + r12 - 8], edi\n"),
                       "%s", text);
    cr_assert_not_null(strstr(text, "mov ebx, dword ptr [r13 + r12]\n"
                                    "mov esi, dword ptr [r13 + r12 + 4]\n"),
                       "%s", text);
    cr_assert_eq(m[0].cpu->regs[R_EDX], 4 + 3 + 2 + 1);
    for (unsigned r = 0; r < 8; r++)
        cr_assert_eq(m[0].cpu->regs[r], m[1].cpu->regs[r], "register %u: %08x vs %08x", r,
                     m[0].cpu->regs[r], m[1].cpu->regs[r]);
    cr_assert_eq(memcmp(m[0].ram + JE_STACK - 0x100, m[1].ram + JE_STACK - 0x100, 0x100), 0);
    je_free(&m[0]);
    je_free(&m[1]);
}
