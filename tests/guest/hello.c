/*
 * hello.c — the smallest Glass guest: a multiboot kernel that prints one
 * line on the debug console (port 0xE9) and ends Glass through the
 * debug-exit port (0xF4) with value 0, i.e. exit status 1. It brings its
 * own entry (it is in GUEST_STANDALONE in guest.mk), so it needs nothing
 * of the CPU beyond MOV, CALL, CMP and OUT: the first guest to try.
 *
 * Build and run (what `make check` does):
 *   gcc -m32 -ffreestanding -nostdlib -static -no-pie -O2 \
 *       -Wl,-T,tests/guest/lib/link.ld -o hello.elf tests/guest/hello.c
 *   ./glass -nographic -no-reboot -kernel hello.elf
 */
#include <stdint.h>

/* Multiboot v1 header (spec 3.1.1): magic, flags 0 (an ELF image; no
 * requirements), checksum. Then the entry: a stack, and the magic number
 * the loader left in EAX as the argument of hello_main. */
__asm__(".section .multiboot, \"a\"\n"
        ".align 4\n"
        ".long 0x1BADB002, 0, -0x1BADB002\n"
        ".section .bss\n"
        ".align 16\n"
        "hello_stack: .space 4096\n"
        "hello_stack_top:\n"
        ".text\n"
        ".globl _start\n"
        "_start:\n"
        "    mov $hello_stack_top, %esp\n"
        "    push %eax\n"
        "    call hello_main\n"
        "1:  cli\n"
        "    hlt\n"
        "    jmp 1b\n");

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void puts_debugcon(const char *s)
{
    while (*s)
        outb(0xe9, (uint8_t)*s++);
}

void hello_main(uint32_t magic);

void hello_main(uint32_t magic)
{
    if (magic != 0x2BADB002) {
        puts_debugcon("FAIL: not started by a multiboot loader\n");
        outb(0xf4, 1);
        return;
    }
    puts_debugcon("Hello from a Glass guest\n");
    outb(0xf4, 0);
}
