; tests/guest/boot/mbr.asm — a boot-sector test of a PC BIOS (Glass's
; bios/ or any other). Stage 1 (the MBR) prints through INT 10h and loads
; stage 2 with INT 13h AH=42h; stage 2 exercises INT 11h/12h/13h/15h/16h/
; 1Ah, prints results to the debug port 0xE9 and exits through port 0xF4
; (value 0 = pass, else the number of the failed check).
; Build: nasm -f bin -o mbr.img mbr.asm   (a 16 KiB disk image)
; QEMU:  qemu-system-i386 -bios build/bios/bios.bin -hda mbr.img \
;          -device isa-debug-exit,iobase=0xf4,iosize=4 -debugcon file:out \
;          -serial stdio -display none

        bits 16
        org 0x7c00

STAGE2_SECTORS equ 7

start:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        mov [boot_drive], dl
        mov si, msg_hello
        call tty_puts
        ; INT 13h AH=41h: extensions present?
        mov ah, 0x41
        mov bx, 0x55aa
        mov dl, [boot_drive]
        int 0x13
        jc fail1
        cmp bx, 0xaa55
        jne fail1
        ; INT 13h AH=42h: stage 2 to 0000:7E00
        mov si, dap
        mov ah, 0x42
        mov dl, [boot_drive]
        int 0x13
        jc fail2
        cmp dword [stage2_magic], 0x32474c53    ; "SLG2"
        jne fail3
        jmp stage2

fail1:  mov al, 1
        jmp fail
fail2:  mov al, 2
        jmp fail
fail3:  mov al, 3
fail:
        push ax
        mov si, msg_fail
        call dbg_puts
        pop ax
        push ax
        add al, '0'
        out 0xe9, al
        mov al, 10
        out 0xe9, al
        pop ax
        out 0xf4, al
.h:     hlt
        jmp .h

; SI: string via INT 10h AH=0Eh and to port 0xE9.
tty_puts:
        lodsb
        test al, al
        jz .d
        out 0xe9, al
        mov ah, 0x0e
        mov bx, 0x0007
        int 0x10
        jmp tty_puts
.d:     ret

dbg_puts:
        lodsb
        test al, al
        jz .d
        out 0xe9, al
        jmp dbg_puts
.d:     ret

dap:    db 0x10, 0
        dw STAGE2_SECTORS
        dw 0x7e00, 0
        dq 1

boot_drive: db 0
msg_hello:  db "MBR: loaded by the BIOS", 13, 10, 0
msg_fail:   db "FAIL check ", 0

        times 446 - ($ - $$) db 0
        ; partition table: one FAT-less entry so partitioners see a disk
        db 0x80, 0, 2, 0, 0xda, 0, 0x20, 0
        dd 1, 31
        times 510 - ($ - $$) db 0
        dw 0xaa55

; ------------------------------------------------------------ stage 2
stage2_magic: db "SLG2"
stage2:
        mov si, msg_s2
        call tty_puts

        ; INT 12h: conventional memory, 512..640 KiB
        int 0x12
        push ax
        cmp ax, 512
        jb fail4
        cmp ax, 640
        ja fail4
        mov si, msg_int12
        call dbg_puts
        pop ax
        call hex16
        call nl

        ; INT 11h: equipment word, bits 4-5 = 10b (80x25 colour)
        int 0x11
        and ax, 0x30
        cmp ax, 0x20
        jne fail5

        ; INT 13h AH=08h: geometry of the boot disk
        mov ah, 0x08
        mov dl, [boot_drive]
        int 0x13
        jc fail6
        mov si, msg_geom
        call dbg_puts
        mov ax, cx
        call hex16
        mov al, ' '
        out 0xe9, al
        mov ax, dx
        call hex16
        call nl

        ; INT 13h AH=48h: EDD parameters, 512-byte sectors, 32 sectors
        mov word [edd_buf], 0x1e
        mov si, edd_buf
        mov ah, 0x48
        mov dl, [boot_drive]
        int 0x13
        jc fail7
        cmp word [edd_buf + 24], 512
        jne fail7
        mov si, msg_edd
        call dbg_puts
        mov ax, [edd_buf + 18]
        call hex16
        mov ax, [edd_buf + 16]
        call hex16
        call nl

        ; INT 13h AH=02h: CHS read of sector 2 (C0 H0 S3) = stage 2 + 512
        mov ax, 0x0201
        mov cx, 0x0003
        mov dh, 0
        mov dl, [boot_drive]
        mov bx, 0x9000
        int 0x13
        jc fail8
        mov ax, [0x9000]
        cmp ax, [0x7e00 + 512]
        jne fail8

        ; INT 13h AH=43h then AH=42h: write a sector, read it back
        mov di, 0x9000
        mov cx, 256
        mov ax, 0xa55a
        rep stosw
        mov si, dap_w
        mov ah, 0x43
        mov al, 0
        mov dl, [boot_drive]
        int 0x13
        jc fail9
        mov word [0x9000], 0
        mov si, dap_w
        mov ah, 0x42
        mov dl, [boot_drive]
        int 0x13
        jc fail9
        cmp word [0x9000 + 510], 0xa55a
        jne fail9

        ; INT 15h E820: print the map, need >= 3 RAM/reserved entries
        mov si, msg_e820
        call dbg_puts
        xor ebx, ebx
        xor bp, bp
.e820:  mov eax, 0xe820
        mov edx, 0x534d4150
        mov ecx, 20
        mov di, e820_buf
        int 0x15
        jc fail10
        cmp eax, 0x534d4150
        jne fail10
        inc bp
        push ebx
        mov eax, [e820_buf + 4]
        call hex32
        mov eax, [e820_buf]
        call hex32
        mov al, ' '
        out 0xe9, al
        mov eax, [e820_buf + 12]
        call hex32
        mov eax, [e820_buf + 8]
        call hex32
        mov al, ' '
        out 0xe9, al
        mov al, [e820_buf + 16]
        add al, '0'
        out 0xe9, al
        call nl
        pop ebx
        test ebx, ebx
        jnz .e820
        cmp bp, 3
        jb fail10

        ; INT 15h E801 and 88h
        mov ax, 0xe801
        int 0x15
        jc fail11
        mov si, msg_e801
        call dbg_puts
        call hex16
        mov al, ' '
        out 0xe9, al
        mov ax, bx
        call hex16
        call nl

        ; INT 1Ah AH=00h: ticks advance across INT 15h AH=86h (0.2 s wait)
        xor ah, ah
        int 0x1a
        mov [ticks], dx
        mov ah, 0x86
        mov cx, 0x0003
        mov dx, 0x0d40          ; 200000 us
        int 0x15
        jc fail12
        sti
        mov cx, 0
.spin:  xor ah, ah              ; ticks must move on with interrupts enabled
        int 0x1a
        cmp dx, [ticks]
        jne .ticked
        hlt
        loop .spin
        jmp fail12
.ticked:

        ; INT 1Ah AH=B101h: PCI BIOS present
        mov ax, 0xb101
        xor edi, edi
        int 0x1a
        jc fail13
        cmp edx, 0x20494350
        jne fail13
        ; find the PIIX3 ISA bridge 8086:7000
        mov ax, 0xb102
        mov cx, 0x7000
        mov dx, 0x8086
        xor si, si
        int 0x1a
        jc fail13
        mov si, msg_pci
        call dbg_puts
        mov ax, bx
        call hex16
        call nl

        ; INT 1Ah AH=02h: RTC time in BCD
        mov ah, 0x02
        int 0x1a
        jc fail14

        ; INT 16h AH=01h: no key pending (ZF=1); AH=05h stores one, AH=00h reads it
        mov ah, 0x01
        int 0x16
        jnz fail15
        mov ah, 0x05
        mov cx, 0x1e61          ; 'a'
        int 0x16
        mov ah, 0x00
        int 0x16
        cmp ax, 0x1e61
        jne fail15

        ; INT 10h AH=03h after teletype output: cursor moved off column 0?
        mov ah, 0x0e
        mov al, '*'
        mov bx, 7
        int 0x10
        mov ah, 0x03
        mov bh, 0
        int 0x10
        test dl, dl
        jz fail16
        ; AH=0Fh: mode 3, 80 columns
        mov ah, 0x0f
        int 0x10
        cmp ax, 0x5003
        jne fail16

        ; INT 15h AH=87h: copy 16 bytes to 1 MiB + 0 and back
        mov dword [gdt87 + 0x12], 0x7c00      ; source base 0x007C00
        mov byte [gdt87 + 0x15], 0x93
        mov word [gdt87 + 0x10], 0xffff
        mov dword [gdt87 + 0x1a], 0x100000
        mov byte [gdt87 + 0x1d], 0x93
        mov word [gdt87 + 0x18], 0xffff
        mov si, gdt87
        mov cx, 8
        mov ah, 0x87
        int 0x15
        jc fail17
        mov dword [gdt87 + 0x12], 0x100000
        mov byte [gdt87 + 0x15], 0x93
        mov dword [gdt87 + 0x1a], 0x9000
        mov byte [gdt87 + 0x1d], 0x93
        mov si, gdt87
        mov cx, 8
        mov ah, 0x87
        int 0x15
        jc fail17
        mov eax, [0x9000]
        cmp eax, [0x7c00]
        jne fail17

        ; INT 10h AX=4F00h/4F01h/4F02h/4F03h: VBE 2.0 on the Bochs VBE
        ; registers; 640x480x32 (mode 142h) with a linear frame buffer
        mov dword [vbe_buf], 'VBE2'
        mov di, vbe_buf
        mov ax, 0x4f00
        int 0x10
        cmp ax, 0x004f
        jne fail18
        cmp dword [vbe_buf], 'VESA'
        jne fail18
        cmp word [vbe_buf + 4], 0x0200
        jb fail18
        mov di, vbe_buf
        mov cx, 0x142
        mov ax, 0x4f01
        int 0x10
        cmp ax, 0x004f
        jne fail18
        cmp word [vbe_buf + 0x12], 640
        jne fail18
        cmp byte [vbe_buf + 0x19], 32
        jne fail18
        mov si, msg_lfb
        call dbg_puts
        mov eax, [vbe_buf + 0x28]
        call hex32
        call nl
        cmp dword [vbe_buf + 0x28], 0
        je fail18
        mov ax, 0x4f02
        mov bx, 0x4142
        int 0x10
        cmp ax, 0x004f
        jne fail18
        mov ax, 0x4f03
        int 0x10
        and bx, 0x1ff
        cmp bx, 0x142
        jne fail18
        mov ax, 0x0003          ; back to text mode 3
        int 0x10
        mov ah, 0x0f
        int 0x10
        cmp al, 0x03
        jne fail18

        mov si, msg_pass
        call tty_puts
        mov al, 0
        out 0xf4, al
.h:     hlt
        jmp .h

fail4:  mov al, 4
        jmp fail
fail5:  mov al, 5
        jmp fail
fail6:  mov al, 6
        jmp fail
fail7:  mov al, 7
        jmp fail
fail8:  mov al, 8
        jmp fail
fail9:  mov al, 9
        jmp fail
fail10: mov al, 10
        jmp fail
fail11: mov al, 11
        jmp fail
fail12: mov al, 12
        jmp fail
fail13: mov al, 13
        jmp fail
fail14: mov al, 14
        jmp fail
fail15: mov al, 15
        jmp fail
fail16: mov al, 16
        jmp fail
fail17: mov al, 17
        jmp fail
fail18: mov al, 18
        jmp fail

hex32:  push eax
        shr eax, 16
        call hex16
        pop eax
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
nl:     push ax
        mov al, 10
        out 0xe9, al
        pop ax
        ret

dap_w:  db 0x10, 0
        dw 1
        dw 0x9000, 0
        dq 20

msg_s2:    db "Stage 2 running", 13, 10, 0
msg_int12: db "int12 ", 0
msg_geom:  db "geometry cx dx ", 0
msg_edd:   db "edd sectors ", 0
msg_e820:  db "e820:", 10, 0
msg_e801:  db "e801 ", 0
msg_pci:   db "pci piix3 ", 0
msg_lfb:   db "vbe lfb ", 0
msg_pass:  db "PASS: BIOS boot test", 13, 10, 0
ticks:     dw 0
        align 4
edd_buf:   times 0x42 db 0
e820_buf:  times 24 db 0
gdt87:     times 48 db 0
vbe_buf:   times 512 db 0

        times 512 * (1 + STAGE2_SECTORS) - ($ - $$) db 0
        times 512 db 0x5a       ; sector 8..31: filler
        times 16384 - ($ - $$) db 0
