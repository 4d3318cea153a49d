; tests/guest/boot/setup16.asm — a bzImage that starts only through its
; real-mode setup code (code32_start 0, as iPXE's ipxe.lkrn), booted with
; `glass -kernel setup16.bin -initrd FILE -append "..."`: the board loads
; it for the 16-bit boot protocol and Glass's BIOS runs it after POST
; (Documentation/arch/x86/boot.rst, "Running the kernel").
; Checks the entry state the protocol promises (CS = seg + 20h, DS = ES =
; FS = GS = SS = seg, interrupts off), the header fields the loader wrote
; (type_of_loader, CAN_USE_HEAP, heap_end_ptr, vid_mode, cmd_line_ptr,
; the initrd's place and size), the command line, the protected-mode part
; at 1 MiB, and the BIOS's services under it (INT 12h, INT 15h E820).
; Prints to port 0xE9, exits through port 0xF4: 0 = pass, else the number
; of the failed check.
; Build: nasm -f bin -o setup16.bin setup16.asm

        bits 16
        org 0                   ; DS-relative offsets = file offsets

INITRD_SIZE equ 1000            ; run.sh makes an initrd of this size

; ---------------------------------------------------------------- sector 0
        times 0x1f1 db 0
setup_sects:    db 2            ; two setup sectors after the boot sector
root_flags:     dw 0
syssize:        dd 1            ; 16 bytes of protected-mode part
ram_size:       dw 0
vid_mode:       dw 0xfffd       ; "ask": the loader must say "normal"
root_dev:       dw 0
boot_flag:      dw 0xaa55

; ---------------------------------------------------------------- sector 1
; Entered at 0x200 with CS = seg + 20h, IP = 0.
        jmp short start
header:         db "HdrS"
version:        dw 0x020a
realmode_swtch: dd 0
start_sys_seg:  dw 0
kernel_version: dw 0
type_of_loader: db 0
loadflags:      db 0x01         ; LOADED_HIGH
setup_move_size: dw 0
code32_start:   dd 0            ; not an entry: this setup code is
ramdisk_image:  dd 0
ramdisk_size:   dd 0
bootsect_kludge: dd 0
heap_end_ptr:   dw 0
ext_loader_ver: db 0
ext_loader_type: db 0
cmd_line_ptr:   dd 0
initrd_addr_max: dd 0x7fffffff
kernel_alignment: dd 0
relocatable_kernel: db 0
min_alignment:  db 0
xloadflags:     dw 0
cmdline_size:   dd 255
hardware_subarch: dd 0
hardware_subarch_data: dq 0
payload_offset: dd 0
payload_length: dd 0
setup_data:     dq 0
pref_address:   dq 0
init_size:      dd 0

start:
        pushf                   ; 1: interrupts off at entry
        pop ax
        test ax, 0x200
        mov al, 1
        jnz fail
        mov ax, cs              ; 2: DS = ES = FS = GS = SS = CS - 20h
        sub ax, 0x20
        mov bx, ds
        cmp ax, bx
        mov al, 2
        jne fail
        mov ax, ds
        mov bx, es
        cmp ax, bx
        jne fail2
        mov bx, fs
        cmp ax, bx
        jne fail2
        mov bx, gs
        cmp ax, bx
        jne fail2
        mov bx, ss
        cmp ax, bx
        jne fail2
        cmp sp, [heap_end_ptr]  ; 3: the stack above the heap
        mov al, 3
        jbe fail
        cmp byte [type_of_loader], 0    ; 4: the loader's fields
        mov al, 4
        je fail
        test byte [loadflags], 0x80
        jz fail
        cmp word [heap_end_ptr], 0
        je fail
        cmp word [vid_mode], 0xffff
        jne fail
        cmp dword [ramdisk_size], INITRD_SIZE   ; 5: the initrd
        mov al, 5
        jne fail
        cmp dword [ramdisk_image], 0x100010
        jb fail
        test word [ramdisk_image], 0xfff
        jnz fail
        sti
        mov si, msg_setup
        call puts
        ; 6: the command line, through a segment (below 1 MiB)
        mov eax, [cmd_line_ptr]
        cmp eax, 0xf0000
        mov al, 6
        jae fail
        mov eax, [cmd_line_ptr]
        push ds
        mov ebx, eax
        shr ebx, 4
        mov ds, bx
        and ax, 15
        mov si, ax
        call puts
        pop ds
        mov si, msg_nl
        call puts
        ; 7: INT 12h: conventional memory, in KiB
        int 0x12
        cmp ax, 512
        mov al, 7
        jb fail
        ; 8: INT 15h E820, first entry: RAM from 0
        push ds
        pop es
        mov di, e820_buf
        xor ebx, ebx
        mov edx, 0x534d4150
        mov eax, 0xe820
        mov ecx, 20
        int 0x15
        jc fail8
        cmp eax, 0x534d4150
        jne fail8
        cmp dword [e820_buf], 0
        jne fail8
        cmp dword [e820_buf + 16], 1
        jne fail8
        ; 9: the protected-mode part at 1 MiB (A20 on through port 92h)
        in al, 0x92
        or al, 2
        and al, 0xfe
        out 0x92, al
        mov ax, 0xffff
        mov es, ax
        cmp dword [es:0x10], 'GLAS'   ; the file's bytes at 600h
        mov al, 9
        jne fail
        cmp dword [es:0x1c], 'T-16'
        jne fail
        mov si, msg_pass
        call puts
        mov al, 0
        out 0xf4, al
        hlt

fail2:  mov al, 2
        jmp fail
fail8:  mov al, 8
fail:   mov ah, al
        mov si, msg_fail
        call puts
        mov al, ah
        add al, '0'
        out 0xe9, al
        mov al, 10
        out 0xe9, al
        mov al, ah
        out 0xf4, al
        hlt

puts:   lodsb                   ; DS:SI, NUL-terminated, to port 0xE9
        test al, al
        jz .done
        out 0xe9, al
        jmp puts
.done:  ret

msg_setup:      db "setup16: setup code ran, command line: ", 0
msg_nl:         db 10, 0
msg_pass:       db "PASS setup16", 10, 0
msg_fail:       db "FAIL setup16 check ", 0
        align 4
e820_buf:       times 20 db 0

        times 0x600-($-$$) db 0
; ---------------------------------------------------------------- 1 MiB
; The protected-mode part, loaded at 100000h (not at 10600h).
        db "GLASS-PM-PART-16"
