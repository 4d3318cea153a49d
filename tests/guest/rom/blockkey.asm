; blockkey.asm — a test ROM for what translated code is keyed by: the
; physical address as memory really decodes it. Both engines cache code
; (decoded or translated) by physical address; these are the two ways the
; physical meaning of an address changes without a store into the code:
;
; 1. The A20 gate. Code at FFFF:0010 run with A20 off comes from 0:0 (the
;    8086 wrap); with A20 on the same CS:IP is 100000h. A cache keyed by
;    the address before the gate is applied ran the bytes of 0:0 again
;    after the gate opened and 100000h held other code.
; 2. The i440FX PAM (82441FX datasheet, PAM0 at 59h): a function run from
;    the BIOS ROM at F0000h, then the segment shadowed into DRAM (write
;    only: reads still from ROM, writes to DRAM), the DRAM copy changed,
;    and the segment switched to DRAM reads. Code translated from ROM was
;    never marked as code (ROM cannot be stored into), so nothing dropped
;    it when DRAM took its place.
;    (QEMU 7.2 does not send writes to DRAM in PAM's write-only mode: its
;    DRAM copy stays empty and part 2 cannot run there; the 82441FX
;    datasheet's "write only" sends reads to PCI and writes to DRAM.)
; Reports on port 0xE9; exits through port 0xF4 (0 = pass, n = check n).

%include "rom.inc"

start16:
        cli
        xor ax, ax
        mov ss, ax
        mov sp, 0x7000
        mov ds, ax
        mov es, ax
        PRINT "blockkey: start"

; --- 1. A20 --------------------------------------------------------------
        ; Gate off: port 92h bit 1 and the 8042's output port (DDh).
        in al, 0x92
        and al, 0xfd
        out 0x92, al
        call kbc_wait
        mov al, 0xdd
        out 0x64, al
        call kbc_wait
        ; 0:0 = "mov ax, 1; retf"; FFFF:0010 wraps there.
        mov word [0], 0x01b8
        mov word [2], 0xcb00
        mov ax, 0xffff
        mov es, ax
        cmp word [es:0x10], 0x01b8
        jne fail1               ; the gate did not close
        xor ax, ax
        call 0xffff:0x0010
        cmp ax, 1
        jne fail1
        ; Gate on, and 100000h = "mov ax, 2; retf".
        mov al, 0xdf
        out 0x64, al
        call kbc_wait
        mov word [es:0x10], 0x02b8
        mov word [es:0x12], 0xcb00
        cmp word [0], 0x01b8
        jne fail2               ; the gate did not open
        xor ax, ax
        call 0xffff:0x0010
        cmp ax, 2
        jne fail2               ; stale code from 0:0
        xor ax, ax
        mov es, ax
        CHECKED 1

; --- 2. PAM: ROM, then its shadow in DRAM ---------------------------------
        xor ax, ax
        call 0xf000:rom_fn      ; translated from the ROM
        cmp ax, 1
        jne fail3
        mov al, 0x20            ; PAM0 F0000-FFFFF: write only (WE)
        call set_pam0
        ; Copy the 64 KiB from ROM (reads) into DRAM (writes).
        mov ax, 0xf000
        mov ds, ax
        mov es, ax
        xor si, si
        xor di, di
        mov cx, 0x8000
        cld
        rep movsw
        ; The DRAM copy of rom_fn returns 2.
        mov byte [es:rom_fn + 1], 2
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov al, 0x30            ; PAM0: read/write DRAM
        call set_pam0
        cmp byte [cs:rom_fn + 1], 2
        jne fail4               ; DRAM not in place
        xor ax, ax
        call 0xf000:rom_fn
        cmp ax, 2
        jne fail4               ; stale code from the ROM
        CHECKED 2

        PRINT "blockkey: pass"
        PASS

; set_pam0: AL = the value of PAM0 (config register 59h of 00:00.0).
set_pam0:
        push ax
        mov dx, 0xcf8
        mov eax, 0x80000058
        out dx, eax
        pop ax
        mov dx, 0xcfd           ; 0xcfc + (59h & 3)
        out dx, al
        ret

; kbc_wait: until the 8042's input buffer is empty.
kbc_wait:
        in al, 0x64
        test al, 2
        jnz kbc_wait
        ret

; The function both parts call (far): "mov ax, 1; retf".
rom_fn:
        mov ax, 1
        retf

        FAILS 1, 2, 3, 4
        RESET_VECTOR start16
