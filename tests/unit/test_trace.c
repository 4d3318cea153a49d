/*
 * test_trace.c — the -d exec line (frontend/trace.c): address in the
 * code segment's width, the instruction's bytes, Capstone's text in the
 * CPU's current mode.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

/* Traces one instruction and returns the line written. */
static const char *trace_one(bool code32, uint16_t cs, uint32_t eip, const uint8_t *bytes,
                             unsigned len)
{
    static char line[256];
    FILE *log = tmpfile();
    cr_assert_not_null(log);
    struct trace *t = trace_new(log);
    cr_assert_not_null(t);
    struct cpu *cpu = calloc(1, sizeof(*cpu));
    cpu->code32 = code32;
    cpu->seg[SEG_CS].sel = cs;
    cpu->eip = eip;
    trace_insn(t, cpu, bytes, len);
    rewind(log);
    size_t n = fread(line, 1, sizeof(line) - 1, log);
    line[n] = '\0';
    free(cpu);
    trace_free(t);
    fclose(log);
    return line;
}

Test(exec_trace, protected_mode_line)
{
    const uint8_t mov[] = { 0xb8, 0x01, 0x00, 0x00, 0x00 };
    const char *l = trace_one(true, 0x08, 0x100000, mov, sizeof(mov));
    cr_assert(strncmp(l, "0008:00100000  b8 01 00 00 00 ", 30) == 0, "%s", l);
    cr_assert(strstr(l, "  mov eax, 1\n"), "%s", l);
}

Test(exec_trace, real_mode_decodes_16_bit)
{
    /* B8 iw is MOV AX in 16-bit code: the same bytes as above mean
     * something else, and only three of them are the instruction. */
    const uint8_t mov[] = { 0xb8, 0x34, 0x12 };
    const char *l = trace_one(false, 0xf000, 0xfff0, mov, sizeof(mov));
    cr_assert(strncmp(l, "f000:fff0  b8 34 12 ", 20) == 0, "%s", l);
    cr_assert(strstr(l, "mov ax, 0x1234\n"), "%s", l);
}

Test(exec_trace, undecodable_bytes_said_so)
{
    /* MOV EAX, imm32 cut short: nothing Capstone can decode. */
    const uint8_t bad[] = { 0xb8, 0x01 };
    const char *l = trace_one(true, 0x08, 0x1000, bad, sizeof(bad));
    cr_assert(strstr(l, "(not disassembled)\n"), "%s", l);
}
