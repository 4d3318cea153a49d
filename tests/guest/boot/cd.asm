; tests/guest/boot/cd.asm — an El Torito no-emulation CD image (ISO 9660
; layout written by hand: 2048-byte sectors; 16 = primary volume
; descriptor, 17 = boot record -> catalog at 19, 18 = terminator, 20 = boot
; image) whose boot code checks the BIOS's CD services: DL = CD drive,
; INT 13h AH=41h, AH=4B01h status packet, AH=48h (2048-byte sectors),
; AH=42h of sector 16. Output to port 0xE9, exit through port 0xF4.
; Build: nasm -f bin -o cd.iso cd.asm; boot with the CD first (-boot d).

        bits 16
SECT    equ 2048
        times 16 * SECT db 0

; 16: primary volume descriptor (ECMA-119 §8.4; only what is checked)
pvd:    db 1, "CD001", 1, 0
        times 32 db ' '                 ; system id
        db "GLASS_BIOS_TEST"
        times 32 - 15 db ' '            ; volume id
        times 8 db 0
        dd 24                           ; volume space size (LE)
        dd 0x18000000                   ; (BE)
        times SECT - ($ - pvd) db 0

; 17: boot record volume descriptor (El Torito 1.0 §2.0)
brvd:   db 0, "CD001", 1
        db "EL TORITO SPECIFICATION"
        times 0x47 - ($ - brvd) db 0
        dd 19                           ; boot catalog sector
        times SECT - ($ - brvd) db 0

; 18: volume descriptor set terminator
        db 255, "CD001", 1
        times SECT - 7 db 0

; 19: boot catalog: validation entry (checksum word makes the 16 words
; sum to 0) and the initial/default entry
cat:    db 1, 0                         ; header id, platform 80x86
        dw 0
        times 24 db 0                   ; id string
        dw 0x55aa                       ; checksum: 0001h + 55AAh + AA55h = 0
        db 0x55, 0xaa
        db 0x88, 0                      ; bootable, no emulation
        dw 0                            ; load segment 0 = 07C0h
        db 0, 0
        dw 4                            ; 4 virtual sectors = 2 KiB
        dd 20                           ; image LBA
        times SECT - ($ - cat) db 0

; 20: the boot image, run at 0000:7C00
        section image vstart=0x7c00 follows=.text
img:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        mov [drive], dl
        mov si, m_hello
        call puts
        cmp byte [drive], 0xe0
        jne f1
        mov ah, 0x41
        mov bx, 0x55aa
        mov dl, [drive]
        int 0x13
        jc f2
        cmp bx, 0xaa55
        jne f2
        mov ax, 0x4b01
        mov dl, [drive]
        mov si, spec
        int 0x13
        jc f3
        cmp byte [spec + 2], 0xe0
        jne f3
        cmp dword [spec + 4], 20
        jne f3
        mov word [edd], 0x1a
        mov ah, 0x48
        mov dl, [drive]
        mov si, edd
        int 0x13
        jc f4
        cmp word [edd + 24], 2048
        jne f4
        mov ah, 0x42
        mov dl, [drive]
        mov si, dap
        int 0x13
        jc f5
        cmp dword [0x8001], 'CD00'
        jne f5
        mov si, m_pass
        call puts
        mov al, 0
        out 0xf4, al
.h:     hlt
        jmp .h
f1:     mov al, 1
        jmp fail
f2:     mov al, 2
        jmp fail
f3:     mov al, 3
        jmp fail
f4:     mov al, 4
        jmp fail
f5:     mov al, 5
fail:   push ax
        mov si, m_fail
        call puts
        pop ax
        push ax
        add al, '0'
        out 0xe9, al
        mov al, 10
        out 0xe9, al
        pop ax
        out 0xf4, al
        jmp f5
puts:   lodsb
        test al, al
        jz .d
        out 0xe9, al
        mov ah, 0x0e
        mov bx, 7
        int 0x10
        jmp puts
.d:     ret
dap:    db 0x10, 0
        dw 1
        dw 0x8000, 0
        dq 16
drive:  db 0
m_hello: db "CD: no-emulation image running", 10, 0
m_pass: db "PASS: BIOS CD boot test", 10, 0
m_fail: db "FAIL check ", 0
spec:   times 0x13 db 0
        align 2
edd:    times 0x42 db 0
        times 4 * SECT - ($ - $$) db 0
