; tests/bench/realmode.asm — a real-mode loop for the JIT's 16-bit paths
; (translate/jit: the jump cache for real-mode code, PUSH/POP, CALL, RET
; and LOOP on a 16-bit stack). A 64 KiB ROM image: the reset vector at
; F000:FFF0 jumps to `start`, which runs 3 M iterations of near calls,
; an indirect call through a table, stack and memory traffic, then exits
; through the debug-exit port 0xF4 (Glass's, or QEMU's isa-debug-exit).
; A benchmark, not a test (README.md in this folder):
;   nasm -f bin tests/bench/realmode.asm -o /tmp/realmode.bin
;   time ./glass -accel jit -bios /tmp/realmode.bin -nographic -m 2
bits 16
org 0
start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov ax, 0x1000
    mov ds, ax
    xor si, si
    mov dx, 300
outer:
    mov cx, 10000
inner:
    call add_count
    call store_mixed
    mov bx, cx
    and bx, 7
    shl bx, 1
    call [cs:table + bx]
    loop inner
    dec dx
    jnz outer
    mov al, 0
    out 0xf4, al
    hlt
add_count:
    add si, cx
    ret
store_mixed:
    push ax
    mov ax, si
    xor ax, 0x5555
    mov [bx], ax
    pop ax
    ret
g0: inc si
    ret
g1: add si, 3
    ret
g2: xor si, cx
    ret
g3: sub si, 7
    ret
table: dw g0, g1, g2, g3, g0, g1, g2, g3
times 0xfff0 - ($ - $$) db 0
    jmp 0xf000:start
times 0x10000 - ($ - $$) db 0
