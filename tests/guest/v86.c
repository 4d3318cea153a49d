/*
 * v86.c — virtual-8086 mode (SDM Vol. 3A chapter 20): entering it with
 * IRET, 8086 addressing, the IOPL-sensitive instructions (CLI, STI,
 * PUSHF, POPF, INT n, IRET) faulting with #GP(0) below IOPL 3, I/O
 * through the TSS permission bitmap regardless of IOPL, and interrupts
 * from v86 mode to the ring-0 monitor with the v86 segment frame.
 */
#include "lib/guest.h"

#define V86_CS 0x0700 /* code copied to 0x7000 */
#define V86_SS 0x0800
#define V86_SP 0x1000 /* stack top at 0x9000 */

/* 16-bit code run in v86 mode; each entry point ends in INT 0x80 (to the
 * monitor) or faults on purpose. */
__asm__(".code16\n"
        ".globl v86_blob\n"
        "v86_blob:\n"
        "v86_arith:\n"                 /* offset 0 */
        "  mov $0x1234, %ax\n"
        "  mov %ax, %ds\n"
        "  movw $0x5678, 0x10\n"       /* 0x12340 + 0x10 */
        "  mov %ds:0x10, %bx\n"
        "  int $0x80\n"
        "v86_cli:\n"
        "  cli\n"
        "  int $0x80\n"
        "v86_int:\n"
        "  int $0x21\n"
        "  int $0x80\n"
        "v86_pushf:\n"
        "  pushf\n"
        "  int $0x80\n"
        "v86_out:\n"
        "  mov $0x55, %al\n"
        "  out %al, $0x80\n"
        "  int $0x80\n"
        "v86_out_denied:\n"
        "  mov $0x55, %al\n"
        "  out %al, $0x81\n"
        "  int $0x80\n"
        /* Near and far calls, a jump table read through CS, PUSH/POP and
         * LOOP: the JIT runs them inline or through its jump cache in
         * v86 mode (translate/jit/jit.h jit_jc_seg16). */
        "v86_calls:\n"
        "  xor %si, %si\n"
        "  xor %di, %di\n"
        "  mov $100, %cx\n"
        "1:\n"
        "  call v86_add\n"
        "  lcall $0x0700, $(v86_far - v86_blob)\n"
        "  mov %cx, %bx\n"
        "  and $1, %bx\n"
        "  shl $1, %bx\n"
        "  call *%cs:(v86_table - v86_blob)(%bx)\n"
        "  push %cx\n"
        "  pop %dx\n"
        "  loop 1b\n"
        "  int $0x80\n"
        "v86_add:\n"
        "  add %cx, %si\n"
        "  ret\n"
        "v86_far:\n"
        "  add $3, %di\n"
        "  lret\n"
        "v86_even:\n"
        "  add $1, %bp\n"
        "  ret\n"
        "v86_odd:\n"
        "  add $2, %bp\n"
        "  ret\n"
        "v86_table:\n"
        "  .word v86_even - v86_blob, v86_odd - v86_blob\n"
        ".globl v86_blob_end\n"
        "v86_blob_end:\n"
        ".code32\n");
extern char v86_calls[];
extern char v86_blob[], v86_blob_end[], v86_arith[], v86_cli[], v86_int[], v86_pushf[],
    v86_out[], v86_out_denied[];

#define OFF(label) ((uint32_t)((label) - v86_blob))

struct v86_entry {
    uint32_t ip;
    uint32_t iopl;
};

static void enter_v86(void *arg)
{
    const struct v86_entry *e = arg;
    uint32_t eflags = 0x20002u | (e->iopl << 12); /* VM, IOPL */
    __asm__ volatile("push $0\n push $0\n push $0\n push $0\n" /* GS FS DS ES */
                     "push %0\n push %1\n push %2\n push %3\n push %4\n iret"
                     : : "r"((uint32_t)V86_SS), "r"((uint32_t)V86_SP), "r"(eflags),
                       "r"((uint32_t)V86_CS), "r"(e->ip)
                     : "memory");
}

static int run_v86(uint32_t ip, uint32_t iopl)
{
    struct v86_entry e = { ip, iopl };
    return run_expect(enter_v86, &e);
}

/* TSS with an I/O permission bitmap: ports 0x80 allowed, 0x81 denied. */
static uint32_t io_tss[26 + 2048 + 1] __attribute__((aligned(16)));

void test_main(void)
{
    uint8_t *dst = (uint8_t *)0x7000;
    for (const char *p = v86_blob; p < v86_blob_end; p++)
        *dst++ = (uint8_t)*p;
    idt_set_stub(0x80, 0x8e, 3);
    idt_set_stub(13, 0x8e, 0);

    /* 8086 addressing: DS=0x1234, offset 0x10 is linear 0x12350. */
    int v = run_v86(OFF(v86_arith), 0);
    CHECK_EQ(v, 13); /* INT 0x80 with IOPL 0 is itself #GP(0) */
    CHECK_EQ(*(volatile uint16_t *)0x12350, 0x5678);
    CHECK_EQ(last_trap.ebx & 0xffff, 0x5678);
    CHECK(last_trap.eflags & 0x20000);         /* VM in the saved image */
    CHECK_EQ(last_trap.cs, V86_CS);
    CHECK_EQ(last_trap.v86_ds, 0x1234);        /* v86 segments pushed */
    CHECK_EQ(last_trap.ss, V86_SS);
    CHECK_EQ(last_trap.error, 0);

    /* IOPL 3: the same code reaches the INT 0x80 gate (DPL 3). */
    v = run_v86(OFF(v86_arith), 3);
    CHECK_EQ(v, 0x80);
    CHECK_EQ(last_trap.v86_ds, 0x1234);
    CHECK_EQ(last_trap.ds, 0);                 /* DS nulled on the way to ring 0 */

    /* IOPL-sensitive instructions below IOPL 3: #GP(0) at the instruction. */
    v = run_v86(OFF(v86_cli), 0);
    CHECK_EQ(v, 13);
    CHECK_EQ(last_trap.eip, OFF(v86_cli));
    v = run_v86(OFF(v86_int), 0);
    CHECK_EQ(v, 13);
    CHECK_EQ(last_trap.eip, OFF(v86_int));
    v = run_v86(OFF(v86_pushf), 0);
    CHECK_EQ(v, 13);
    CHECK_EQ(last_trap.eip, OFF(v86_pushf));
    /* ... and fine at IOPL 3. */
    v = run_v86(OFF(v86_cli), 3);
    CHECK_EQ(v, 0x80);
    CHECK(!(last_trap.eflags & 0x200));        /* CLI cleared IF */

    /* I/O in v86 mode consults the bitmap even at IOPL 3. The kernel TSS
     * has none: OUT faults. */
    v = run_v86(OFF(v86_out), 3);
    CHECK_EQ(v, 13);
    CHECK_EQ(last_trap.eip, OFF(v86_out) + 2);

    /* A TSS with a bitmap allowing port 0x80 only. */
    for (int i = 0; i < 26; i++)
        io_tss[i] = kernel_tss[i];
    io_tss[25] = 104u << 16;
    uint8_t *bitmap = (uint8_t *)&io_tss[26];
    for (int i = 0; i < 8192; i++)
        bitmap[i] = 0xff;
    bitmap[0x80 / 8] &= (uint8_t)~(1u << (0x80 % 8));
    bitmap[8192] = 0xff;
    gdt_set(6, (uint32_t)io_tss, 104 + 8192, 0x89, 0);
    __asm__ volatile("ltr %w0" : : "r"(0x30));
    v = run_v86(OFF(v86_out), 3);
    CHECK_EQ(v, 0x80);
    v = run_v86(OFF(v86_out_denied), 3);
    CHECK_EQ(v, 13);
    CHECK_EQ(last_trap.eip, OFF(v86_out_denied) + 2);
    /* Calls, far calls, a CS jump table, the stack and LOOP in v86 mode. */
    v = run_v86(OFF(v86_calls), 3);
    CHECK_EQ(v, 0x80);
    CHECK_EQ(last_trap.esi & 0xffff, 5050);    /* 100 + 99 + ... + 1 */
    CHECK_EQ(last_trap.edi & 0xffff, 300);     /* 100 far calls */
    CHECK_EQ(last_trap.ebp & 0xffff, 150);     /* 50 even, 50 odd */
    CHECK_EQ(last_trap.edx & 0xffff, 1);
    CHECK_EQ(last_trap.esp & 0xffff, V86_SP);  /* every push popped */
    CHECK_EQ(last_trap.cs, V86_CS);
    puts("v86 ok\n");
}
