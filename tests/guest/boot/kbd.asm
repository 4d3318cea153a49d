; tests/guest/boot/kbd.asm — interactive keyboard check of a BIOS: prints
; every key INT 16h AH=10h returns (AX in hex) to port 0xE9 until 'q'.
; Driven from QEMU's monitor with sendkey (see bios/README.md).
        bits 16
        org 0x7c00
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        mov si, ready
.msg:   lodsb
        test al, al
        jz .loop
        out 0xe9, al
        jmp .msg
.loop:  mov ah, 0x10
        int 0x16
        push ax
        call hex16
        mov al, 10
        out 0xe9, al
        pop ax
        cmp al, 'q'
        jne .loop
        mov al, 0
        out 0xf4, al
        cli
        hlt
hex16:  push ax
        mov al, ah
        call hex8
        pop ax
hex8:   push ax
        shr al, 4
        call hex4
        pop ax
hex4:   and al, 15
        add al, '0'
        cmp al, '9'
        jbe .o
        add al, 7
.o:     out 0xe9, al
        ret
ready:  db "KBD ready", 10, 0
        times 510 - ($ - $$) db 0
        dw 0xaa55
