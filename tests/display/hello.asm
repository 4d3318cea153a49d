; tests/display/hello.asm — the boot sector of the window's end-to-end
; test (tests/display/run.sh): Glass's BIOS boots it from a disk, it
; puts a banner on the text screen in colour, a row of the 16 colours,
; and a prompt, then echoes every key INT 16h gives it through the
; BIOS's teletype (and to port 0xE9) until Esc, which ends the run
; through the debug-exit port (glass exits with status 1). It also
; enables the PS/2 mouse through INT 15h AH=C2h and writes each packet
; to port 0xE9 as "M ssss xxxx yyyy" (status, X and Y words in hex).
; Key '1' switches to mode 13h and draws 16 bars of 20 pixels in
; colours 0-15; key '2' sets VBE mode 142h (640x480, 32 bpp) and fills
; it through the 64 KiB window, bank b (4F05h) with colour b * 0D0B09h;
; key '3' masks the timer's IRQ 0, so that waiting for a key the CPU
; sits in HLT and runs nothing until the next key.
        bits 16
        org 0x7c00
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        mov ax, 0x0003          ; mode 3: 80x25 text, cleared
        int 0x10
        mov ax, 0xb800
        mov es, ax
        ; The banner on row 1 from column 2: yellow on blue.
        mov si, banner
        mov di, (1 * 80 + 2) * 2
        mov ah, 0x1e
.banner:
        lodsb
        test al, al
        jz .colours
        stosw
        jmp .banner
        ; Row 3 from column 2: a full block in each of the 16 colours.
.colours:
        mov di, (3 * 80 + 2) * 2
        mov ax, 0x00db
.block:
        stosw
        inc ah
        cmp ah, 16
        jne .block
        ; The mouse: handler, reset, 3-byte packets, enable (errors
        ; are the test's to see: no packets).
        mov ax, 0xc207
        push cs
        pop es
        mov bx, mouse
        int 0x15
        mov ax, 0xc201
        int 0x15
        mov ax, 0xc205
        mov bh, 3
        int 0x15
        mov ax, 0xc200
        mov bh, 1
        int 0x15
        ; The prompt on row 5, through the BIOS.
        mov ah, 0x02            ; set cursor: row 5, column 0
        xor bh, bh
        mov dx, 0x0500
        int 0x10
        mov si, prompt
.prompt:
        lodsb
        test al, al
        jz .keys
        call putc
        jmp .prompt
.keys:
        xor ah, ah              ; wait for a key
        int 0x16
        out 0xe9, al
        cmp al, 27              ; Esc: done
        je .done
        cmp al, '1'
        je .mode13
        cmp al, '2'
        je .vbe
        cmp al, '3'
        jne .notimer
        in al, 0x21
        or al, 0x01
        out 0x21, al
        jmp .keys
.notimer:
        cmp al, 13
        jne .echo
        call putc
        mov al, 10
.echo:
        call putc
        jmp .keys
.mode13:
        mov ax, 0x0013
        int 0x10
        mov ax, 0xa000
        mov es, ax
        xor di, di
        mov dx, 200
.row:
        xor bx, bx              ; x
.col:
        mov ax, bx
        mov cl, 20
        div cl                  ; AL = x / 20
        stosb
        inc bx
        cmp bx, 320
        jne .col
        dec dx
        jnz .row
        jmp .keys
.vbe:
        mov ax, 0x4f02
        mov bx, 0x0142
        int 0x10
        mov ax, 0xa000
        mov es, ax
        xor edx, edx            ; bank
.bank:
        mov ax, 0x4f05
        xor bx, bx
        push dx
        int 0x10
        pop dx
        imul eax, edx, 0x0d0b09
        xor di, di
        mov cx, 0x4000          ; 64 KiB in dwords
        rep stosd
        inc dx
        cmp dx, 19              ; 640 * 480 * 4 bytes: 18.75 banks
        jne .bank
        jmp .keys
.done:
        xor al, al
        out 0xf4, al
        cli
        hlt
putc:
        mov ah, 0x0e
        mov bx, 0x0007
        int 0x10
        ret
; INT 15h C2h's handler: status, X, Y, 0 on the stack (far call).
mouse:
        push bp
        mov bp, sp
        push ax
        push cx
        mov al, 'M'
        out 0xe9, al
        mov ax, [bp + 12]       ; status
        call hex16
        mov ax, [bp + 10]       ; X
        call hex16
        mov ax, [bp + 8]        ; Y
        call hex16
        mov al, 10
        out 0xe9, al
        pop cx
        pop ax
        pop bp
        retf
; " " then AX as 4 hex digits, to port 0xE9.
hex16:
        mov cx, 4
        push ax
        mov al, ' '
        out 0xe9, al
        pop ax
.digit:
        rol ax, 4
        push ax
        and al, 15
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 7
.out:
        out 0xe9, al
        pop ax
        loop .digit
        ret
banner: db "Glass display test: BIOS text mode", 0
prompt: db "keys> ", 0
        times 510 - ($ - $$) db 0
        dw 0xaa55
