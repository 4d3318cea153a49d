/*
 * guest.c — set-up and services of the guest test kernels: GDT with
 * kernel/user segments and a TSS, an IDT whose every exception vector
 * reaches guest_trap, printing, and expected-exception recovery.
 */
#include <stdarg.h>

#include "guest.h"

static uint64_t gdt[GDT_SLOTS] __attribute__((aligned(8)));
static uint64_t idt[256] __attribute__((aligned(8)));
uint32_t kernel_tss[26] __attribute__((aligned(16)));
static uint8_t kernel_trap_stack[8192] __attribute__((aligned(16)));

struct trapframe last_trap;
int (*trap_hook)(struct trapframe *tf);
static struct guest_jmp expect_jmp;
static volatile int expecting;

void puts(const char *s)
{
    while (*s)
        outb(0xe9, (uint8_t)*s++);
}

void put_hex(uint32_t v)
{
    for (int i = 28; i >= 0; i -= 4)
        outb(0xe9, (uint8_t)"0123456789abcdef"[(v >> i) & 0xf]);
}

static void put_dec(uint32_t v)
{
    char buf[12];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        outb(0xe9, (uint8_t)buf[--n]);
}

void printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            outb(0xe9, (uint8_t)*fmt);
            continue;
        }
        switch (*++fmt) {
        case 's': puts(va_arg(ap, const char *)); break;
        case 'x': put_hex(va_arg(ap, uint32_t)); break;
        case 'u': put_dec(va_arg(ap, uint32_t)); break;
        case 'c': outb(0xe9, (uint8_t)va_arg(ap, int)); break;
        case '%': outb(0xe9, '%'); break;
        default: return;
        }
    }
    va_end(ap);
}

_Noreturn void guest_exit(unsigned code)
{
    outb(0xf4, (uint8_t)code);
    for (;;)
        __asm__ volatile("cli; hlt");
}

_Noreturn void check_failed(const char *file, int line, const char *what)
{
    printf("FAIL %s:%u: %s\n", file, (uint32_t)line, what);
    guest_exit(1);
}

_Noreturn void check_eq_failed(const char *file, int line, const char *what, uint32_t got,
                               uint32_t want)
{
    printf("FAIL %s:%u: %s = %x, want %x\n", file, (uint32_t)line, what, got, want);
    guest_exit(1);
}

void gdt_set_raw(unsigned slot, uint32_t lo, uint32_t hi)
{
    gdt[slot] = ((uint64_t)hi << 32) | lo;
}

uint64_t gdt_get(unsigned slot)
{
    return gdt[slot];
}

void gdt_set(unsigned slot, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    uint32_t lo = (limit & 0xffff) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xff) | ((uint32_t)access << 8) | (limit & 0xf0000) |
                  ((uint32_t)(flags & 0xf) << 20) | (base & 0xff000000u);
    gdt_set_raw(slot, lo, hi);
}

void idt_set(unsigned vec, uint32_t offset, uint16_t sel, uint8_t type, unsigned dpl)
{
    uint32_t lo = (offset & 0xffff) | ((uint32_t)sel << 16);
    uint32_t hi = (offset & 0xffff0000u) | ((uint32_t)(type | (dpl << 5)) << 8);
    idt[vec] = ((uint64_t)hi << 32) | lo;
}

#define STUB(n) extern char trap_stub_##n[];
STUB(0) STUB(1) STUB(2) STUB(3) STUB(4) STUB(5) STUB(6) STUB(7) STUB(8) STUB(9)
STUB(10) STUB(11) STUB(12) STUB(13) STUB(14) STUB(15) STUB(16) STUB(17) STUB(18)
STUB(19) STUB(32) STUB(33) STUB(34) STUB(35) STUB(36) STUB(37) STUB(38) STUB(39)
STUB(40) STUB(41) STUB(42) STUB(43) STUB(44) STUB(45) STUB(46) STUB(47) STUB(128)

static char *const stubs[20] = {
    trap_stub_0,  trap_stub_1,  trap_stub_2,  trap_stub_3,  trap_stub_4,
    trap_stub_5,  trap_stub_6,  trap_stub_7,  trap_stub_8,  trap_stub_9,
    trap_stub_10, trap_stub_11, trap_stub_12, trap_stub_13, trap_stub_14,
    trap_stub_15, trap_stub_16, trap_stub_17, trap_stub_18, trap_stub_19,
};

/* The 16 vectors a test remaps the PIC pair to (IRQ 0-15 at 20h-2Fh). */
static char *const irq_stubs[16] = {
    trap_stub_32, trap_stub_33, trap_stub_34, trap_stub_35, trap_stub_36, trap_stub_37,
    trap_stub_38, trap_stub_39, trap_stub_40, trap_stub_41, trap_stub_42, trap_stub_43,
    trap_stub_44, trap_stub_45, trap_stub_46, trap_stub_47,
};

void idt_set_stub(unsigned vec, uint8_t type, unsigned dpl)
{
    char *s = vec < 20 ? stubs[vec] : vec >= 32 && vec < 48 ? irq_stubs[vec - 32]
                                                             : trap_stub_128;
    idt_set(vec, (uint32_t)s, SEL_KCODE, type, dpl);
}

void guest_trap(struct trapframe *tf)
{
    if (trap_hook && trap_hook(tf))
        return;
    last_trap = *tf;
    if (expecting) {
        expecting = 0;
        guest_longjmp(&expect_jmp, 1);
    }
    printf("FAIL unexpected exception %u error %x at %x:%x\n", tf->vector, tf->error, tf->cs,
           tf->eip);
    guest_exit(1);
}

int run_expect(void (*fn)(void *), void *arg)
{
    if (guest_setjmp(&expect_jmp)) {
        /* Recovered from the exception in last_trap; the kernel's segment
         * registers may hold what the test loaded: restore them. */
        __asm__ volatile("mov %0, %%ds; mov %0, %%es; mov %0, %%fs; mov %0, %%gs; mov %0, %%ss"
                         : : "r"(SEL_KDATA));
        return (int)last_trap.vector;
    }
    expecting = 1;
    fn(arg);
    expecting = 0;
    return -1;
}

uint32_t multiboot_info_addr;

void guest_start(uint32_t magic, uint32_t info)
{
    multiboot_info_addr = info;
    if (magic != 0x2BADB002) {
        puts("FAIL not started by a multiboot loader\n");
        guest_exit(1);
    }
    gdt_set(1, 0, 0xfffff, 0x9a, 0xc); /* kernel code */
    gdt_set(2, 0, 0xfffff, 0x92, 0xc); /* kernel data */
    gdt_set(3, 0, 0xfffff, 0xfa, 0xc); /* user code */
    gdt_set(4, 0, 0xfffff, 0xf2, 0xc); /* user data */
    kernel_tss[1] = (uint32_t)(kernel_trap_stack + sizeof(kernel_trap_stack)); /* ESP0 */
    kernel_tss[2] = SEL_KDATA;                                                   /* SS0 */
    kernel_tss[25] = (uint32_t)sizeof(kernel_tss) << 16; /* no I/O bitmap */
    gdt_set(5, (uint32_t)kernel_tss, sizeof(kernel_tss) - 1, 0x89, 0);
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) gdtr = { sizeof(gdt) - 1, (uint32_t)gdt },
      idtr = { sizeof(idt) - 1, (uint32_t)idt };
    __asm__ volatile("lgdt %0" : : "m"(gdtr));
    __asm__ volatile("ljmp %0, $1f\n1:" : : "i"(SEL_KCODE));
    __asm__ volatile("mov %0, %%ds; mov %0, %%es; mov %0, %%fs; mov %0, %%gs; mov %0, %%ss"
                     : : "r"(SEL_KDATA));
    for (unsigned v = 0; v < 20; v++)
        idt_set_stub(v, 0x8e, 0);
    __asm__ volatile("lidt %0" : : "m"(idtr));
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
    test_main();
    puts("PASS\n");
    guest_exit(0);
}

void pic_remap(void)
{
    outb(0x20, 0x11); outb(0xa0, 0x11); /* ICW1: edge, cascade, ICW4 */
    outb(0x21, 0x20); outb(0xa1, 0x28); /* ICW2: vectors 20h, 28h */
    outb(0x21, 0x04); outb(0xa1, 0x02); /* ICW3: slave on IR2 */
    outb(0x21, 0x01); outb(0xa1, 0x01); /* ICW4: 8086 mode */
    outb(0x21, 0xfb); outb(0xa1, 0xff); /* all masked but the cascade */
}

void pic_unmask(unsigned irq)
{
    uint16_t port = irq < 8 ? 0x21 : 0xa1;
    outb(port, (uint8_t)(inb(port) & ~(1u << (irq & 7))));
}

void pic_mask(unsigned irq)
{
    uint16_t port = irq < 8 ? 0x21 : 0xa1;
    outb(port, (uint8_t)(inb(port) | (1u << (irq & 7))));
}

void pic_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(0xa0, 0x20); /* non-specific EOI to the slave, then the master */
    outb(0x20, 0x20);
}
