/*
 * boot.S — entry of Glass's guest test kernels: a multiboot v1 header,
 * a stack, and the exception/interrupt stubs that funnel every vector
 * into guest_trap() with a uniform frame (struct trapframe in guest.h).
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-align modules, want memory info */

        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)

        .section .bss
        .align 16
boot_stack:
        .space 16384
boot_stack_top:

        .section .text
        .globl _start
_start:
        cli
        mov $boot_stack_top, %esp
        push %ebx               /* multiboot info */
        push %eax               /* magic */
        call guest_start
1:      hlt
        jmp 1b

/* Stubs: push a dummy error code where the CPU pushes none, then the
 * vector, and join the common path. */
.macro TRAP_NOERR n
        .globl trap_stub_\n
trap_stub_\n:
        push $0
        push $\n
        jmp trap_common
.endm
.macro TRAP_ERR n
        .globl trap_stub_\n
trap_stub_\n:
        push $\n
        jmp trap_common
.endm

TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR 8
TRAP_NOERR 9
TRAP_ERR 10
TRAP_ERR 11
TRAP_ERR 12
TRAP_ERR 13
TRAP_ERR 14
TRAP_NOERR 15
TRAP_NOERR 16
TRAP_ERR 17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 32
TRAP_NOERR 33
TRAP_NOERR 34
TRAP_NOERR 35
TRAP_NOERR 36
TRAP_NOERR 37
TRAP_NOERR 38
TRAP_NOERR 39
TRAP_NOERR 40
TRAP_NOERR 41
TRAP_NOERR 42
TRAP_NOERR 43
TRAP_NOERR 44
TRAP_NOERR 45
TRAP_NOERR 46
TRAP_NOERR 47
TRAP_NOERR 128

trap_common:
        pusha
        push %ds
        push %es
        push %fs
        push %gs
        mov $0x10, %ax          /* kernel data: the GDT of guest.c */
        mov %ax, %ds
        mov %ax, %es
        push %esp               /* struct trapframe * */
        call guest_trap
        add $4, %esp
        pop %gs
        pop %fs
        pop %es
        pop %ds
        popa
        add $8, %esp            /* vector and error code */
        iret

/* int guest_setjmp(struct guest_jmp *j) / guest_longjmp(j, v): enough of
 * setjmp for the kernels to recover from an expected exception. */
        .globl guest_setjmp
guest_setjmp:
        mov 4(%esp), %eax
        mov %ebx, 0(%eax)
        mov %esi, 4(%eax)
        mov %edi, 8(%eax)
        mov %ebp, 12(%eax)
        lea 4(%esp), %ecx
        mov %ecx, 16(%eax)
        mov (%esp), %ecx
        mov %ecx, 20(%eax)
        xor %eax, %eax
        ret
        .globl guest_longjmp
guest_longjmp:
        mov 4(%esp), %edx
        mov 8(%esp), %eax
        mov 0(%edx), %ebx
        mov 4(%edx), %esi
        mov 8(%edx), %edi
        mov 12(%edx), %ebp
        mov 16(%edx), %esp
        jmp *20(%edx)
