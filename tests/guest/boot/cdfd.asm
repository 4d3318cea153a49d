; tests/guest/boot/cdfd.asm — an El Torito CD with a 1.44 MB diskette-
; emulation image (media type 2): the BIOS must boot it as drive 00h and
; serve INT 13h for it from the CD (CHS 80/2/18, read-only). Checks DL,
; AH=08h geometry, AH=02h of C0/H1/S1 (the image's sector 18), AH=4B01h,
; INT 11h diskette bit. Output to port 0xE9, exit through port 0xF4.
; Build: nasm -f bin -o cdfd.iso cdfd.asm; boot with -boot d.

        bits 16
SECT    equ 2048
        times 16 * SECT db 0
pvd:    db 1, "CD001", 1, 0
        times SECT - ($ - pvd) db 0
brvd:   db 0, "CD001", 1
        db "EL TORITO SPECIFICATION"
        times 0x47 - ($ - brvd) db 0
        dd 19
        times SECT - ($ - brvd) db 0
        db 255, "CD001", 1
        times SECT - 7 db 0
cat:    db 1, 0
        dw 0
        times 24 db 0
        dw 0x55aa                       ; checksum: 0001h + 55AAh + AA55h = 0
        db 0x55, 0xaa
        db 0x88, 2                      ; bootable, 1.44 MB diskette emulation
        dw 0                            ; load segment 07C0h
        db 0, 0
        dw 1                            ; one virtual sector
        dd 20                           ; image LBA
        times SECT - ($ - cat) db 0

        section image vstart=0x7c00 follows=.text
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        test dl, dl
        jnz f1
        mov ah, 0x08
        xor dl, dl
        int 0x13
        jc f2
        cmp cx, 0x4f12                  ; cylinder 79, 18 sectors
        jne f2
        cmp dh, 1
        jne f2
        push ds                         ; AH=08h returned ES:DI = parameter table
        pop es
        mov ax, 0x0201
        mov cx, 0x0001
        mov dx, 0x0100                  ; head 1, drive 0
        mov bx, 0x8000
        int 0x13
        jc f3
        cmp dword [0x8000], 'S018'
        jne f3
        mov ax, 0x4b01
        mov si, spec
        mov dl, 0
        int 0x13
        jc f4
        cmp byte [spec + 1], 2
        jne f4
        int 0x11
        test al, 1
        jz f5
        mov si, m_pass
.p:     lodsb
        test al, al
        jz .x
        out 0xe9, al
        jmp .p
.x:     mov al, 0
        out 0xf4, al
        hlt
f1:     mov al, 1
        jmp fail
f2:     mov al, 2
        jmp fail
f3:     mov al, 3
        jmp fail
f4:     mov al, 4
        jmp fail
f5:     mov al, 5
fail:   mov ah, al
        add al, '0'
        out 0xe9, al
        mov al, ah
        out 0xf4, al
        hlt
spec:   times 0x13 db 0
m_pass: db "PASS: BIOS CD diskette emulation test", 10, 0
        times 18 * 512 - ($ - $$) db 0
        db "S018"                       ; sector 18 = C0 H1 S1
        times 1474560 - ($ - $$) db 0
