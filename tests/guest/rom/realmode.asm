; realmode.asm — a test ROM that runs from the reset vector in real mode:
; arithmetic and flags, the stack, near/far calls, real-mode interrupts
; through the IVT (software INT, #DE, #UD, #BR, INTO, single-step), string
; instructions, the switch to 32-bit protected mode with a #GP on a segment
; limit, and the way back to real mode ("unreal" caches included).
; Reports on port 0xE9; ends with a write to the debug-exit port 0xF4:
; 0 = pass, n = failed check n (exit status 2n+1).
; Build: nasm -f bin -o realmode.rom realmode.asm (a 64 KiB image).

%include "rom.inc"

start16:
        cli
        xor ax, ax
        mov ss, ax
        mov sp, 0x7000
        mov ds, ax
        mov es, ax
        PRINT "realmode: start"

; --- arithmetic and flags -------------------------------------------
        mov ax, 0x7fff
        add ax, 1
        jno fail1
        js .s1
        jmp fail1
.s1:    mov al, 0x99
        add al, 0x01
        daa                     ; 0x9A -> 0x00 with CF
        jnc fail1
        test al, al
        jnz fail1
        mov ax, 0x1234
        mov bx, 0x10
        mul bx                  ; DX:AX = 0x12340
        cmp dx, 1
        jne fail1
        cmp ax, 0x2340
        jne fail1
        CHECKED 1

; --- stack, near and far calls ----------------------------------------
        mov bp, sp
        push word 0x1111
        push word 0x2222
        pop cx
        pop dx
        cmp cx, 0x2222
        jne fail2
        cmp dx, 0x1111
        jne fail2
        cmp sp, bp
        jne fail2
        call near_fn
        cmp ax, 0xbeef
        jne fail2
        call 0xf000:far_fn
        cmp ax, 0xcafe
        jne fail2
        CHECKED 2

; --- interrupts through the IVT ----------------------------------------
        ; INT 0x40 handler counts and checks the frame.
        SETVEC 0x40, int40
        mov word [counter], 0
        int 0x40
        cmp word [counter], 1
        jne fail3
        ; #DE: divide by zero; the handler skips the 2-byte DIV.
        SETVEC 0, de_handler
        mov word [counter], 0
        xor bl, bl
        mov ax, 5
div_insn:
        div bl
        cmp word [counter], 1
        jne fail3
        ; #UD on UD2: saved IP points at the UD2.
        SETVEC 6, ud_handler
        mov word [counter], 0
ud_insn:
        ud2
        cmp word [counter], 1
        jne fail3
        ; #BR on BOUND out of range (a fault: IP at BOUND).
        SETVEC 5, br_handler
        mov word [counter], 0
        mov word [bounds], 10
        mov word [bounds+2], 20
        mov ax, 30
br_insn:
        bound ax, [bounds]
        cmp word [counter], 1
        jne fail3
        ; INTO with OF set: a trap (IP after INTO).
        SETVEC 4, of_handler
        mov word [counter], 0
        mov al, 0x7f
        add al, 1
        into
        cmp word [counter], 1
        jne fail3
        ; Single step: TF set by POPF traps after the next instruction.
        SETVEC 1, db_handler
        mov word [counter], 0
        pushf
        pop ax
        or ax, 0x100
        push ax
        popf                    ; trap after the instruction following POPF
        nop
        nop
        pushf
        pop ax
        and ax, 0xfeff
        push ax
        popf
        cmp word [counter], 2   ; at least the two NOPs stepped
        jb fail3
        CHECKED 3

; --- strings --------------------------------------------------------------
        cld
        mov ax, 0x2000
        mov es, ax
        xor di, di
        mov cx, 100
        mov al, 0x5a
        rep stosb
        cmp cx, 0
        jne fail4
        cmp di, 100
        jne fail4
        mov ax, 0x2000
        mov ds, ax
        xor si, si
        mov ax, 0x3000
        mov es, ax
        xor di, di
        mov cx, 50
        rep movsw
        mov ax, 0x2000
        mov es, ax
        xor di, di
        mov al, 0x5a
        mov cx, 200
        repe scasb              ; stops at offset 100 (first mismatch)
        cmp di, 101
        jne fail4
        xor ax, ax
        mov ds, ax
        mov es, ax
        CHECKED 4

; --- segment wrap: a word at offset 0xFFFF is #GP in real mode --------
; (SDM Vol. 3A 20.1.4 and the real-address-mode exceptions of MOV. QEMU's
; TCG does not check real-mode limits, so -D QEMU_VALIDATE skips this
; group when the ROM itself is checked on QEMU.)
%ifndef QEMU_VALIDATE
        SETVEC 13, gp_skip3
        mov word [counter], 0
        mov bx, 0xffff
gp_insn:
        mov ax, [bx]            ; 2 bytes: 8B 07
        nop
        cmp word [counter], 1
        jne fail5
        CHECKED 5
%endif

; --- protected mode and back -----------------------------------------
        lgdt [cs:gdt_desc]
        lidt [cs:idt_desc]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword 0x08:pm32_entry + 0xf0000

[bits 32]
pm32_entry:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, 0x7000
        ; 32-bit flat data: write above 1 MiB and read back.
        mov dword [0x100000], 0x12345678
        cmp dword [0x100000], 0x12345678
        jne pfail6
        ; A segment limit of 0xFFF (selector 0x18): an access at 0x1000
        ; faults with #GP(0) through the IDT (QEMU's TCG does not check
        ; data segment limits, hence QEMU_VALIDATE).
%ifndef QEMU_VALIDATE
        mov ax, 0x18
        mov fs, ax
        mov dword [gp32_hits], 0
        mov byte [fs:0xfff], 1   ; inside the limit
gp32_insn:
        mov byte [fs:0x1000], 1  ; outside: #GP(0); handler skips 8 bytes
        cmp dword [gp32_hits], 1
        jne pfail6
        cmp dword [gp32_err], 0
        jne pfail6
%endif
        ; Back to real mode through a 16-bit code segment.
        jmp 0x20:pm16_entry
pfail6:
        mov al, 6
        out 0xf4, al
        hlt

gp32_handler:
        inc dword [gp32_hits]
        pop eax                  ; error code
        mov [gp32_err], eax
        add dword [esp], 8       ; skip the faulting 8-byte MOV
        iret

[bits 16]
pm16_entry:
        ; Still protected, 16-bit code. Load 64 KiB data segments, except FS
        ; which gets a 4 GiB limit to leave "unreal" after the switch.
        mov ax, 0x28
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov ax, 0x10
        mov fs, ax
        mov eax, cr0
        and al, 0xfe
        mov cr0, eax
        jmp 0xf000:rm_again
rm_again:
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7000
        lidt [cs:ivt_desc]
        ; FS still has a 4 GiB limit in its hidden cache (unreal mode).
        xor ax, ax
        mov fs, ax
        mov eax, [fs:dword 0x100000]
        cmp eax, 0x12345678
        jne fail7
        CHECKED 7
        PRINT "realmode: all passed"
        PASS

; --- helpers ----------------------------------------------------------
near_fn:
        mov ax, 0xbeef
        ret
far_fn:
        mov ax, 0xcafe
        retf

int40:
        inc word [counter]
        ; the frame: IP, CS=F000, FLAGS
        push bp
        mov bp, sp
        cmp word [bp+4], 0xf000
        jne fail3
        pop bp
        iret

de_handler:
        inc word [counter]
        push bp
        mov bp, sp
        cmp word [bp+2], div_insn
        jne fail3
        add word [bp+2], 2
        pop bp
        iret

ud_handler:
        inc word [counter]
        push bp
        mov bp, sp
        cmp word [bp+2], ud_insn
        jne fail3
        add word [bp+2], 2
        pop bp
        iret

br_handler:
        inc word [counter]
        push bp
        mov bp, sp
        cmp word [bp+2], br_insn
        jne fail3
        add word [bp+2], 4       ; BOUND AX,[disp16] is 4 bytes
        pop bp
        iret

of_handler:
        inc word [counter]
        iret

db_handler:
        inc word [counter]
        iret

%ifndef QEMU_VALIDATE
gp_skip3:
        inc word [counter]
        push bp
        mov bp, sp
        cmp word [bp+2], gp_insn
        jne fail5
        add word [bp+2], 2
        pop bp
        iret
%endif

FAILS 1, 2, 3, 4, 5, 7

; --- tables -----------------------------------------------------------
align 8
gdt:
        dq 0
        dq 0x00cf9b000000ffff    ; 0x08: code 32, base 0, 4 GiB
        dq 0x00cf93000000ffff    ; 0x10: data 32, base 0, 4 GiB
        dq 0x0040930000000fff    ; 0x18: data 32, base 0, limit 0xFFF
        dq 0x00009b0f0000ffff    ; 0x20: code 16, base 0xF0000, 64 KiB
        dq 0x000093000000ffff    ; 0x28: data 16, base 0, 64 KiB
gdt_end:
gdt_desc:
        dw gdt_end - gdt - 1
        dd gdt + 0xf0000
idt_desc:
        dw 14*8 - 1
        dd idt32 + 0xf0000
ivt_desc:
        dw 0x3ff
        dd 0

align 8
idt32:
%rep 13
        dq 0
%endrep
        ; vector 13: 32-bit interrupt gate to 0x08:gp32_handler
        dw (gp32_handler - $$ + 0xf0000) & 0xffff
        dw 0x08
        db 0, 0x8e
        dw (gp32_handler - $$ + 0xf0000) >> 16

; Data lives in RAM.
counter   equ 0x500
bounds    equ 0x510
gp32_hits equ 0x520
gp32_err  equ 0x524

RESET_VECTOR start16
