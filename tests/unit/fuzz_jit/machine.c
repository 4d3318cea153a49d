/*
 * machine.c — the guest machine the programs run on (test_fuzz_jit.c): the
 * test device (an MMIO page and ports whose accesses are hashed in order)
 * and the base image every program starts from: the real-mode IVT, the GDT,
 * IDT and TSS, and the guest's exception handler.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fuzz_jit.h"

/* ------------------------------------------------------------------ */
/* The device: MMIO page and ports, whose accesses are hashed in order */
/* ------------------------------------------------------------------ */

static void dev_note(struct fj_dev *d, uint64_t what)
{
    d->hash = (d->hash ^ what) * 0x100000001b3ull;
    d->count++;
}

static uint64_t dev_read(void *opaque, uint64_t addr, unsigned size)
{
    struct fj_dev *d = opaque;
    uint32_t v = (d->regs[(addr >> 2) & 15] + d->count * 0x9e3779b1u) ^ (uint32_t)addr;
    dev_note(d, addr << 8 | size << 4 | 1);
    dev_note(d, v);
    return size == 1 ? v & 0xff : size == 2 ? v & 0xffff : v;
}

static void dev_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct fj_dev *d = opaque;
    d->regs[(addr >> 2) & 15] = (uint32_t)val;
    dev_note(d, addr << 8 | size << 4 | 2);
    dev_note(d, val);
}

const struct mem_ops fj_dev_ops = { .read = dev_read, .write = dev_write };

/* ------------------------------------------------------------------ */
/* The base image: descriptor tables, TSS, the guest's handler         */
/* ------------------------------------------------------------------ */

/* Exception vectors with an error code. */
static bool fj_has_error(unsigned v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

static void fj_desc(uint8_t *img, uint16_t sel, uint32_t base, uint32_t limit, unsigned access,
                    unsigned flags)
{
    uint32_t at = FJ_GDT + (sel & 0xfff8u);
    fj_put32(img, at, (limit & 0xffff) | (base << 16));
    fj_put32(img, at + 4, ((base >> 16) & 0xff) | (access << 8) | (limit & 0xf0000) |
                              (flags << 20) | (base & 0xff000000u));
}

static void fj_gate(uint8_t *img, unsigned v, uint32_t off, unsigned dpl)
{
    fj_put32(img, FJ_IDT + v * 8, (off & 0xffff) | ((uint32_t)SEL_CODE0 << 16));
    fj_put32(img, FJ_IDT + v * 8 + 4, (off & 0xffff0000u) | 0x8e00u | (dpl << 13));
}

/* Raw bytes into the handler. */
static void bs(struct gen *g, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fj_b1(g, p[i]);
}
#define BS(g, ...) bs((g), (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

/* A Jcc/JMP rel32 to label l (in the handler). */
static void hjump(struct gen *g, int cc, unsigned l)
{
    g->undef = 0;
    fj_emit_jump(g, cc, l, false);
}

/*
 * The guest's exception handler (32-bit, ring 0), reached by a stub per
 * vector that pushes a dummy error code (if the CPU pushes none) and the
 * vector. It logs vector, error code, EIP and CR2 to the ring at FJ_LOG,
 * counts (and halts after FJ_MAX_FAULTS), then: traps (3, 4, 81h, 82h)
 * return; a #PF on a "fixable" special page (PTE bit 9) makes it present
 * and writable, INVLPGs it and retries; any other fault resumes after the
 * faulting instruction, whose length the generator left at FJ_LENS (by
 * offset from FJ_CODE; in the 16-bit code segment, whose base is FJ_CODE,
 * by EIP). No length known: HLT there.
 */
static void fj_build_handler(struct gen *g)
{
    g->pos = FJ_HANDLER;
    g->limit = FJ_HANDLER + 0x1000;
    g->code32 = true;
    g->cs_base = 0;
    unsigned common = fj_label_new(g), resume = fj_label_new(g), stop = fj_label_new(g),
             skip = fj_label_new(g);
    uint32_t stubs[256] = { 0 };
    for (unsigned v = 0; v < 256; v++) {
        if (v >= 32 && v != 0x81 && v != 0x82)
            continue;
        stubs[v] = g->pos;
        if (!fj_has_error(v))
            BS(g, 0x6a, 0x00); /* push 0 */
        fj_b1(g, 0x68), fj_b4(g, v); /* push v */
        hjump(g, -1, common);
    }
    fj_label_place(g, common, false);
    BS(g, 0x50, 0x53, 0x1e);                         /* push eax; push ebx; push ds */
    fj_b1(g, 0xb8), fj_b4(g, SEL_DATA0);            /* mov eax, SEL_DATA0 */
    BS(g, 0x8e, 0xd8);                               /* mov ds, ax */
    BS(g, 0x8b, 0x1d), fj_b4(g, FJ_VAR_CURSOR);     /* mov ebx, [cursor] */
    BS(g, 0x8b, 0x44, 0x24, 0x0c, 0x89, 0x03);       /* mov eax, [esp+12]; mov [ebx], eax */
    BS(g, 0x8b, 0x44, 0x24, 0x10, 0x89, 0x43, 0x04); /* error code */
    BS(g, 0x8b, 0x44, 0x24, 0x14, 0x89, 0x43, 0x08); /* EIP */
    BS(g, 0x0f, 0x20, 0xd0, 0x89, 0x43, 0x0c);       /* mov eax, cr2; mov [ebx+12], eax */
    BS(g, 0x83, 0xc3, 0x10);                         /* add ebx, 16 */
    fj_b1(g, 0x81), fj_b1(g, 0xe3), fj_b4(g, FJ_LOG | 0xfff); /* and ebx, ring */
    BS(g, 0x89, 0x1d), fj_b4(g, FJ_VAR_CURSOR);     /* mov [cursor], ebx */
    BS(g, 0xff, 0x05), fj_b4(g, FJ_VAR_COUNT);      /* inc dword [count] */
    BS(g, 0x81, 0x3d), fj_b4(g, FJ_VAR_COUNT), fj_b4(g, FJ_MAX_FAULTS);
    hjump(g, 7, stop);                               /* ja stop */
    BS(g, 0x8b, 0x44, 0x24, 0x0c);                   /* mov eax, [esp+12] (vector) */
    static const uint32_t traps[4] = { 3, 4, 0x81, 0x82 };
    for (int i = 0; i < 4; i++) {
        fj_b1(g, 0x3d), fj_b4(g, traps[i]);          /* cmp eax, trap */
        hjump(g, 4, resume);                         /* je resume */
    }
    BS(g, 0x83, 0xf8, 0x0e);                         /* cmp eax, 14 */
    hjump(g, 5, skip);                               /* jne skip */
    BS(g, 0x0f, 0x20, 0xd0);                         /* mov eax, cr2 */
    fj_b1(g, 0x2d), fj_b4(g, FJ_SPECIAL);           /* sub eax, FJ_SPECIAL */
    fj_b1(g, 0x3d), fj_b4(g, FJ_SPECIAL_PAGES * 4096u); /* cmp eax, size */
    hjump(g, 3, skip);                               /* jae skip */
    BS(g, 0xc1, 0xe8, 0x0c);                         /* shr eax, 12 */
    BS(g, 0x8d, 0x1c, 0x85), fj_b4(g, FJ_PT0 + (FJ_SPECIAL >> 12) * 4); /* lea ebx, [eax*4+PTE] */
    BS(g, 0xf7, 0x03), fj_b4(g, 0x200);             /* test dword [ebx], 0x200 */
    hjump(g, 4, skip);                               /* jz skip */
    BS(g, 0x81, 0x33), fj_b4(g, 0x203);             /* xor dword [ebx], 0x203: P, RW, not fixable */
    BS(g, 0x0f, 0x20, 0xd0, 0x0f, 0x01, 0x38);       /* mov eax, cr2; invlpg [eax] */
    hjump(g, -1, resume);
    fj_label_place(g, skip, false);
    BS(g, 0x8b, 0x44, 0x24, 0x14);                   /* mov eax, [esp+20] (EIP) */
    BS(g, 0x66, 0x81, 0x7c, 0x24, 0x18), fj_b2(g, SEL_CODE16); /* cmp word [esp+24], CODE16 */
    BS(g, 0x74, 0x05);                               /* je +5 */
    fj_b1(g, 0x2d), fj_b4(g, FJ_CODE);              /* sub eax, FJ_CODE */
    fj_b1(g, 0x3d), fj_b4(g, FJ_CODE_SIZE);         /* cmp eax, size */
    hjump(g, 3, stop);                               /* jae stop */
    BS(g, 0x0f, 0xb6, 0x80), fj_b4(g, FJ_LENS);     /* movzx eax, byte [eax+FJ_LENS] */
    BS(g, 0x85, 0xc0);                               /* test eax, eax */
    hjump(g, 4, stop);                               /* jz stop */
    BS(g, 0x01, 0x44, 0x24, 0x14);                   /* add [esp+20], eax */
    fj_label_place(g, resume, false);
    BS(g, 0x1f, 0x5b, 0x58, 0x83, 0xc4, 0x08, 0xcf); /* pop ds/ebx/eax; add esp, 8; iretd */
    fj_label_place(g, stop, false);
    BS(g, 0xf4, 0xeb, 0xfd);                         /* hlt; jmp $-1 */

    /* INT 80h from ring 3: go on at ring 0 after the INT, with the ring-0
     * stack as the TSS gives it (the frame dropped). */
    uint32_t to_ring0 = g->pos;
    BS(g, 0x50,                                      /* push eax */
       0x8b, 0x44, 0x24, 0x0c, 0x89, 0x44, 0x24, 0x14, /* EFLAGS up two slots */
       0x8b, 0x44, 0x24, 0x04, 0x89, 0x44, 0x24, 0x0c, /* EIP up two slots */
       0xc7, 0x44, 0x24, 0x10);                      /* mov dword [esp+16], SEL_CODE0 */
    fj_b4(g, SEL_CODE0);
    BS(g, 0x58, 0x83, 0xc4, 0x08, 0xcf);             /* pop eax; add esp, 8; iretd */
    cr_assert(fj_fixups_apply(g) && !g->full, "the handler does not fit");

    for (unsigned v = 0; v < 256; v++) {
        if (stubs[v])
            fj_gate(g->img, v, stubs[v], v == 3 || v == 4 || v == 0x81 ? 3 : 0);
    }
    fj_gate(g->img, 0x80, to_ring0, 3);
}

void fj_build_base(struct gen *g)
{
    uint8_t *img = g->img;
    memset(img, 0, FJ_RAM_SIZE);
    for (unsigned v = 0; v < 256; v++)
        fj_put32(img, FJ_IVT + 4 * v, FJ_REAL_HLT);
    img[FJ_REAL_HLT] = 0xf4, img[FJ_REAL_HLT + 1] = 0xeb, img[FJ_REAL_HLT + 2] = 0xfd;
    fj_desc(img, SEL_CODE0, 0, 0xfffff, 0x9a, 0xc);
    fj_desc(img, SEL_DATA0, 0, 0xfffff, 0x92, 0xc);
    fj_desc(img, SEL_CODE3, 0, 0xfffff, 0xfa, 0xc);
    fj_desc(img, SEL_DATA3, 0, 0xfffff, 0xf2, 0xc);
    fj_desc(img, SEL_TSS, FJ_TSS, FJ_TSS_LIMIT, 0x8b, 0);
    fj_desc(img, SEL_CODE16, FJ_CODE, 0xffff, 0x9a, 0);
    fj_desc(img, SEL_DATA16, FJ_DATA, 0xffff, 0xf2, 0);
    fj_desc(img, SEL_STACK16, 0, 0xffff, 0x92, 0);
    fj_desc(img, SEL_DATAB, FJ_DATA, 0x7ffff, 0xf2, 0x4);
    fj_desc(img, SEL_SMALL, FJ_RAND + 0x1000, 0xfff, 0xf2, 0x4);
    fj_desc(img, SEL_RO, 0, 0xfffff, 0xf0, 0xc);
    fj_desc(img, SEL_EXPDOWN, FJ_DATA, 0xfff, 0xf6, 0);
    fj_desc(img, SEL_NP, 0, 0xfffff, 0x72, 0xc);
    fj_desc(img, SEL_HIBASE, 0xfffff000u, 0xfffff, 0xf2, 0xc);
    fj_desc(img, SEL_STACKB, FJ_STACKB_BASE, 0xfffff, 0x92, 0x4);
    fj_put32(img, FJ_TSS + 4, FJ_STACK0);
    fj_put32(img, FJ_TSS + 8, SEL_DATA0);
    fj_put16(img, FJ_TSS + 0x66, 0x68); /* I/O map past the limit: none */
    fj_put32(img, FJ_VAR_CURSOR, FJ_LOG);
    fj_build_handler(g);
}
