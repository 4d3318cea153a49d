; bios/entry.asm — the real-mode side of Glass's BIOS: reset vector, the
; 16/32-bit mode switches, interrupt entry stubs, IRQ handlers that need no
; C, the GDT, and the tables that must live in segment F000 ($PIR, the
; INT 15h AH=C0h configuration table).
;
; Calling model (see bios/README.md): an interrupt stub saves every
; register on the caller's stack as a `struct rm_frame` (bios.h), switches
; to 32-bit flat protected mode with IF=0, runs bios_dispatch(frame) on the
; private stack at 0x9F000-0xA0000, returns to real mode and pops the
; (possibly modified) frame. bios_dispatch returning nonzero means "nothing
; to do yet" (INT 16h with an empty buffer...): the stub then waits for an
; interrupt with STI;HLT in real mode and calls it again. Only real-mode
; callers are supported: from virtual-8086 mode the mode switch faults.

        cpu 686

SEL_CODE32 equ 0x08
SEL_DATA32 equ 0x10
SEL_CODE16 equ 0x18             ; base 0xF0000, limit 64 KiB
SEL_DATA16 equ 0x20             ; base 0, limit 64 KiB: real-mode limits

        extern bios_dispatch, post_main
        extern _data_load, _data_start, _data_end, _bss_start, _bss_end
        extern _pm_stack_top

        global reset_vector, int_dummy, int08_entry, int09_entry
        global irq_master_default, irq_slave_default, int70_entry
        global int76_entry, int77_entry, pir_table, config_table
        global font_seg_marker, int74_entry, diskette_params, linux16_boot

; ------------------------------------------------------------ real mode
        section .text16 progbits alloc exec nowrite align=16
        bits 16

        db 0                    ; nothing lives at offset 0 (NULL in C)

; Power-on entry (the far jump at F000:FFF0 lands here).
entry16:
        cli
        cld
        ; Fast A20 (PS/2 system control port A, bit 1) so the PM code sees
        ; all of memory; bit 0 would reset the machine.
        in al, 0x92
        or al, 2
        and al, 0xfe
        out 0x92, al
        o32 lgdt [cs:gdt_desc]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword SEL_CODE32:post32

; Back from POST (16-bit PM code segment, base F0000).
post16_back:
        mov ax, SEL_DATA16
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov eax, cr0
        and al, 0xfe
        mov cr0, eax
        jmp 0xf000:post_rm
post_rm:
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        call optionrom_scan
        sti
        int 0x19
        int 0x18
.hang:  hlt
        jmp .hang

; Option ROM scan, C0000-DFFFF in 2 KiB steps (PC/AT; PCI 3.0 §6.3):
; signature 55AA, length byte at +2 in 512-byte units, bytes sum to 0,
; initialisation entry at +3 (far call).
optionrom_scan:
        mov bx, 0xc000
.loop:  cmp bx, 0xe000
        jae .done
        mov es, bx
        cmp word [es:0], 0xaa55
        jne .next
        movzx cx, byte [es:2]
        jcxz .next
        shl cx, 9               ; 0 means 64 KiB: LOOP then runs 65536 times
        xor si, si
        xor al, al
.sum:   add al, [es:si]
        inc si
        loop .sum
        test al, al
        jnz .next
        pushad
        push ds
        push es
        push cs
        push word .back
        push es
        push word 3
        retf
.back:  cli
        cld
        pop es
        pop ds
        popad
.next:  add bx, 0x80
        jmp .loop
.done:  ret

; Interrupt stubs handled in C: save the frame, push the vector number.
%macro CSTUB 1
        global int%1_entry
int%1_entry:
        pushad
        push ds
        push es
        push fs
        push gs
        push word 0x%1
        jmp rm_common
%endmacro
        CSTUB 10
        CSTUB 11
        CSTUB 12
        CSTUB 13
        CSTUB 14
        CSTUB 15
        CSTUB 16
        CSTUB 17
        CSTUB 18
        CSTUB 19
        CSTUB 1a
        CSTUB 40

; IRQ1: read the scancode, offer it to INT 15h AH=4Fh (keyboard intercept,
; PC AT Tech. Ref.: carry clear = consumed), then let C translate it. The
; scancode travels in the high byte of the vector word.
int09_entry:
        pushad
        push ds
        push es
        push fs
        push gs
        in al, 0x60
        mov ah, 0x4f
        stc
        int 0x15
        jnc .consumed
        mov ah, al
        mov al, 0x09
        push ax
        jmp rm_common
.consumed:
        mov al, 0x20
        out 0x20, al
        pop gs
        pop fs
        pop es
        pop ds
        popad
        iret

; Common path. IF=0 here (INT/IRQ cleared it). The caller's GDTR is saved
; below the frame and restored on the way out (a caller may have loaded one
; for its own later use). Frame pointer (linear) in EBX, caller SS:ESP in
; SI:EDI: callee-saved in the C ABI, so they survive the call.
rm_common:
        sub sp, 8
        mov bp, sp
        o32 sgdt [ss:bp]
rm_again:
        cld
        xor esi, esi
        mov si, ss
        mov edi, esp            ; all of ESP: the caller's high half survives
        movzx ebx, sp
        add ebx, 8              ; skip the saved GDTR
        mov eax, esi
        shl eax, 4
        add ebx, eax
        o32 lgdt [cs:gdt_desc]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword SEL_CODE32:pm_call

pm16_exit:
        mov ax, SEL_DATA16
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov eax, cr0
        and al, 0xfe
        mov cr0, eax
        jmp 0xf000:rm_exit
rm_exit:
        mov ss, si
        mov esp, edi
        mov bp, sp
        o32 lgdt [ss:bp]
        test ebx, ebx           ; bios_dispatch's result
        jnz .wait
        add sp, 10              ; GDTR save, vector word
        pop gs
        pop fs
        pop es
        pop ds
        popad
        iret
.wait:  sti
        hlt
        cli
        jmp rm_again

; Default handlers.
int_dummy:
        iret

; A Linux kernel's real-mode setup code, loaded by the board at 1000:0000
; (hw/linux_boot.h LINUX_SETUP_ADDR, the same numbers): INT 19h returns
; here. The 16-bit boot protocol's entry (Documentation/arch/x86/boot.rst,
; "Running the kernel"): interrupts off, DS = ES = FS = GS = SS = the
; setup's segment, SP at the top of its heap, a far jump to seg+20h:0.
linux16_boot:
        cli
        mov ax, 0x1000
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov sp, 0xfff0
        jmp 0x1020:0x0000

irq_master_default:
        push ax
        mov al, 0x20
        out 0x20, al
        pop ax
        iret

irq_slave_default:
        push ax
        mov al, 0x20
        out 0xa0, al
        out 0x20, al
        pop ax
        iret

; IRQ8: the RTC holds its interrupt line until register C is read
; (MC146818 datasheet, register C).
int70_entry:
        push ax
        mov al, 0x0c
        out 0x70, al
        in al, 0x71
        mov al, 0x20
        out 0xa0, al
        out 0x20, al
        pop ax
        iret

; IRQ14/15: reading the status register acknowledges the drive's
; interrupt (ATA-6 §5.14); BDA 0x48E is the "disk interrupt seen" flag.
int76_entry:
        push dx
        mov dx, 0x1f7
        jmp ide_irq
int77_entry:
        push dx
        mov dx, 0x177
ide_irq:
        push ax
        push ds
        in al, dx
        mov ax, 0x40
        mov ds, ax
        mov byte [0x8e], 0xff
        mov al, 0x20
        out 0xa0, al
        out 0x20, al
        pop ds
        pop ax
        pop dx
        iret

; IRQ12, PS/2 auxiliary device (IBM PS/2 BIOS interface, INT 15h AH=C2h):
; bytes collect in the EBDA (flags at 26h: bits 2-0 index, 7 enabled; 27h
; packet size; 28h-2Fh data; 22h far pointer to the user handler). A full
; packet calls the handler with status, X, Y, 0 pushed (words, in that
; order), far RET, the caller pops them.
int74_entry:
        push ds
        pushad
        in al, 0x64
        and al, 0x21                    ; output buffer full, from aux
        cmp al, 0x21
        jne .eoi
        in al, 0x60
        mov bx, 0x40
        mov ds, bx
        mov ds, [0x0e]                  ; EBDA segment
        mov cl, [0x26]
        test cl, 0x80
        jz .eoi                         ; not enabled: drop
        movzx bx, cl
        and bl, 7
        mov [0x28 + bx], al
        inc bl
        cmp bl, [0x27]
        jb .more
        and byte [0x26], 0xf8           ; packet complete: index 0
        cmp dword [0x22], 0
        je .eoi
        movzx ax, byte [0x28]
        push ax                         ; status
        mov al, [0x29]
        push ax                         ; X
        mov al, [0x2a]
        push ax                         ; Y
        xor ax, ax
        push ax                         ; Z
        call far [0x22]
        add sp, 8
        jmp .eoi
.more:  and byte [0x26], 0xf8
        or [0x26], bl
.eoi:   cli
        mov al, 0x20
        out 0xa0, al
        out 0x20, al
        popad
        pop ds
        iret

; IRQ0: BDA tick count at 0x46C, midnight rollover after 0x1800B0 ticks
; (flag at 0x470), diskette motor count at 0x440, then INT 1Ch.
int08_entry:
        push ds
        push ax
        mov ax, 0x40
        mov ds, ax
        inc dword [0x6c]
        cmp dword [0x6c], 0x1800b0
        jb .nomid
        mov dword [0x6c], 0
        inc byte [0x70]
.nomid: cmp byte [0x40], 0
        je .nomotor
        dec byte [0x40]
.nomotor:
        int 0x1c
        cli
        mov al, 0x20
        out 0x20, al
        pop ax
        pop ds
        iret

; ------------------------------------------------------------ tables
        align 8
gdt:    dq 0
        dw 0xffff, 0x0000
        db 0x00, 0x9a, 0xcf, 0x00       ; 0x08 code32 flat
        dw 0xffff, 0x0000
        db 0x00, 0x92, 0xcf, 0x00       ; 0x10 data32 flat
        dw 0xffff, 0x0000
        db 0x0f, 0x9a, 0x00, 0x00       ; 0x18 code16 base F0000
        dw 0xffff, 0x0000
        db 0x00, 0x92, 0x00, 0x00       ; 0x20 data16 base 0
gdt_end:
gdt_desc:
        dw gdt_end - gdt - 1
        dd gdt + 0xf0000

; INT 15h AH=C0h system configuration table (PC AT Tech. Ref.; RBIL):
; length, model FCh (AT), submodel, revision, feature bytes 1-5.
; Feature 1: 0x74 = second PIC, RTC, INT 15h/4Fh called by INT 09h,
; EBDA allocated.
config_table:
        dw 8
        db 0xfc, 0x01, 0x00
        db 0x74, 0x40, 0x00, 0x00, 0x00

; Diskette parameter table (INT 1Eh; PC AT Tech. Ref.) for a 1.44 MB
; drive: step rate/head unload, head load/DMA, motor-off delay, 512-byte
; sectors, 18 sectors/track, gap, data length, format gap, fill byte, head
; settle, motor start. Used for El Torito diskette emulation.
diskette_params:
        db 0xaf, 0x02, 0x25, 0x02, 18, 0x1b, 0xff, 0x6c, 0xf6, 0x0f, 0x08

; PCI IRQ routing table (Microsoft "PCI IRQ Routing Table Specification"
; 1.0): router = PIIX3 at 00:01.0, links are its PIRQRC registers
; 0x60-0x63, routed by POST to IRQ 10, 10, 11, 11. Device d's INTx pin
; (x = 0..3) is wired to PIRQ (x + d - 1) mod 4 (i440FX board swizzle).
; build/bios/fixup sets the checksum byte (offset 31).
        align 16
pir_table:
        db '$PIR'
        dw 0x0100
        dw pir_end - pir_table
        db 0, 0x08              ; router bus, devfn
        dw 0x0c00               ; IRQs reserved for PCI: 10, 11
        dw 0x8086, 0x7000       ; compatible router: PIIX3 ISA bridge
        dd 0                    ; miniport data
        times 11 db 0
        db 0                    ; checksum
%assign dev 1
%rep 31
        db 0, dev << 3
%assign pin 0
%rep 4
        db 0x60 + ((pin + dev - 1) & 3)
        dw 0x0c00
%assign pin pin + 1
%endrep
        db dev, 0
%assign dev dev + 1
%endrep
pir_end:

; SMBIOS 2.4 (DMTF DSP0134): entry point "_SM_" on a 16-byte boundary in
; F0000-FFFFF with the table right behind it; build/bios/fixup sets the
; two checksums. Type 0 (BIOS), type 1 (system), type 127 (end).
        align 16
smbios_eps:
        db '_SM_'
        db 0                            ; EPS checksum (31 bytes)
        db 0x1f                         ; EPS length
        db 2, 4                         ; SMBIOS 2.4
        dw smbios_t0_end - smbios_t0    ; largest structure
        db 0                            ; EPS revision
        times 5 db 0
        db '_DMI_'
        db 0                            ; intermediate checksum (15 bytes)
        dw smbios_end - smbios_t0       ; structure table length
        dd smbios_t0 + 0xf0000          ; structure table address
        dw 3                            ; structures
        db 0x24                         ; BCD revision
smbios_t0:
        db 0, 24
        dw 0                            ; handle
        db 1, 2                         ; vendor, version strings
        dw 0xe000                       ; BIOS starting segment
        db 3                            ; release date string
        db 1                            ; ROM size: (1 + 1) * 64 KiB
        ; characteristics: ISA (4), PCI (7), boot from CD (15), selectable
        ; boot (16), EDD (19)
        dd 0x00098090, 0
        db 0x01                         ; ext 1: ACPI
        db 0x00                         ; ext 2
        db 1, 0                         ; BIOS release 1.0
        db 0xff, 0xff                   ; no embedded controller
        db "Glass", 0, "Glass BIOS 1.0", 0, "11/30/2026", 0, 0
smbios_t0_end:
        db 1, 27
        dw 1
        db 1, 2, 3, 0                   ; manufacturer, product, version, no serial
        times 16 db 0                   ; UUID: not present
        db 6                            ; wake-up type: power switch
        db 0, 0                         ; SKU, family: none
        db "Glass", 0, "Glass PC", 0, "1.0", 0, 0
        db 127, 4
        dw 2
        db 0, 0
smbios_end:
font_seg_marker:

; ------------------------------------------------------------ 32-bit side
        section .text32 progbits alloc exec nowrite align=16
        bits 32

post32:
        mov ax, SEL_DATA32
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, _pm_stack_top
        mov esi, _data_load
        mov edi, _data_start
        mov ecx, _data_end
        sub ecx, edi
        rep movsb
        mov edi, _bss_start
        mov ecx, _bss_end
        sub ecx, edi
        xor eax, eax
        rep stosb
        call post_main
        jmp SEL_CODE16:post16_back

pm_call:
        mov ax, SEL_DATA32
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, _pm_stack_top
        push ebx
        call bios_dispatch
        add esp, 4
        mov ebx, eax
        jmp SEL_CODE16:pm16_exit

; ------------------------------------------------------------ reset vector
        section .reset progbits alloc exec nowrite align=1
        bits 16
reset_vector:
        jmp 0xf000:entry16      ; 5 bytes, F000:FFF0
        db "11/30/26"           ; BIOS date, F000:FFF5
        db 0
        db 0xfc                 ; model byte (AT), F000:FFFE
        db 0                    ; image checksum (fixup)
        section .note.GNU-stack noalloc noexec nowrite progbits
