; tests/guest/boot/mouse.asm — interactive check of INT 15h AH=C2h (PS/2
; pointing device): installs a handler, resets, initialises (3-byte
; packets), enables, and prints "M status x y" for each packet to port
; 0xE9; exits through port 0xF4 after 3 packets. Drive it with QEMU's
; monitor (mouse_move / mouse_button).
        bits 16
        org 0x7c00
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        mov ax, 0xc207
        mov bx, handler
        int 0x15
        jc fail
        mov ax, 0xc201
        int 0x15
        jc fail
        mov al, 'R'
        out 0xe9, al
        mov ax, bx
        call hex16
        call nl
        mov ax, 0xc205
        mov bh, 3
        int 0x15
        jc fail
        mov ax, 0xc200
        mov bh, 1
        int 0x15
        jc fail
        mov si, ready
.m:     lodsb
        test al, al
        jz .w
        out 0xe9, al
        jmp .m
.w:     hlt
        cmp byte [count], 3
        jb .w
        mov al, 0
        out 0xf4, al
        hlt
fail:   mov al, 'F'
        out 0xe9, al
        mov al, ah
        call hex8
        mov al, 2
        out 0xf4, al
        hlt
handler:
        push bp
        mov bp, sp
        mov al, 'M'
        out 0xe9, al
        mov ax, [bp + 12]       ; status
        call hex16
        mov ax, [bp + 10]       ; X
        call hex16
        mov ax, [bp + 8]        ; Y
        call hex16
        call nl
        inc byte [cs:count]
        pop bp
        retf
hex16:  push ax
        mov al, ah
        call hex8
        pop ax
hex8:   push ax
        shr al, 4
        call hex4
        pop ax
hex4:   push ax
        and al, 15
        add al, '0'
        cmp al, '9'
        jbe .o
        add al, 7
.o:     out 0xe9, al
        pop ax
        ret
nl:     mov al, 10
        out 0xe9, al
        ret
count:  db 0
ready:  db "mouse ready", 10, 0
        times 510 - ($ - $$) db 0
        dw 0xaa55
