; tests/display/hello.asm — the boot sector of the window's end-to-end
; test (tests/display/run.sh): Glass's BIOS boots it from a disk, it
; puts a banner on the text screen in colour, a row of the 16 colours,
; and a prompt, then echoes every key INT 16h gives it through the
; BIOS's teletype (and to port 0xE9) until Esc, which ends the run
; through the debug-exit port (glass exits with status 1).
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
        cmp al, 13
        jne .echo
        call putc
        mov al, 10
.echo:
        call putc
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
banner: db "Glass display test: BIOS text mode", 0
prompt: db "keys> ", 0
        times 510 - ($ - $$) db 0
        dw 0xaa55
