# tests/gdb/guest.gdb — gdb drives Glass's gdbstub on the gdbtarget test
# kernel (tests/guest/gdbtarget.c), started stopped (-S); run by
# tests/gdb/run.sh, which checks this session's output and the guest's.
set confirm off
set pagination off
set width 0
# A breakpoint at a symbol of the kernel's ELF, then continue to it.
break tick
continue
print/x $eip
print i
# One instruction.
stepi
print/x $eip
# Registers, segment and control registers included.
info registers eip eflags cs ss ds cr0
# Memory through the guest's page tables (paging is off here: linear).
x/1xw &watched
# A hardware watchpoint: the next store to `watched` stops the guest.
watch watched
continue
print watched
delete
# A variable written by the debugger; the guest prints what it sees.
set var poked = 0x1234abcd
print/x poked
# A monitor command through qRcmd.
monitor info pic
detach
