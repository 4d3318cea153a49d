/*
 * frontend/trace.c — -d exec: each instruction, before it runs, as
 * "CS:EIP  bytes  mnemonic operands", disassembled by Capstone in the
 * mode the CPU decodes it in (CS.D: 16- or 32-bit code). The bytes are
 * the ones the interpreter fetched, so the trace shows what ran even in
 * self-modifying code.
 */
#include <capstone/capstone.h>
#include <stdlib.h>

#include "frontend/frontend.h"

struct trace {
    FILE *log;
    csh cs16, cs32, cs64;
};

struct trace *trace_new(FILE *log)
{
    struct trace *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->log = log;
    if (cs_open(CS_ARCH_X86, CS_MODE_16, &t->cs16) != CS_ERR_OK) {
        free(t);
        return NULL;
    }
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &t->cs32) != CS_ERR_OK) {
        cs_close(&t->cs16);
        free(t);
        return NULL;
    }
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &t->cs64) != CS_ERR_OK) {
        cs_close(&t->cs16);
        cs_close(&t->cs32);
        free(t);
        return NULL;
    }
    return t;
}

void trace_free(struct trace *t)
{
    if (!t)
        return;
    cs_close(&t->cs16);
    cs_close(&t->cs32);
    cs_close(&t->cs64);
    free(t);
}

/* Widest instruction is 15 bytes: 45 columns of hex. */
#define BYTES_COLUMN 45

void trace_insn(void *opaque, struct cpu *cpu, const uint8_t *bytes, unsigned len)
{
    struct trace *t = opaque;
    char hex[BYTES_COLUMN + 1];
    unsigned n = 0;
    for (unsigned i = 0; i < len && n + 3 <= BYTES_COLUMN; i++)
        n += (unsigned)snprintf(hex + n, sizeof(hex) - n, "%s%02x", i ? " " : "", bytes[i]);
    hex[n] = '\0';

    /* Offsets are as wide as the code segment's default: 4 or 8 digits. */
    fprintf(t->log, "%04x:%0*x  %-*s  ", cpu->seg[SEG_CS].sel, cpu->code32 ? 8 : 4, cpu->eip,
            BYTES_COLUMN, hex);
    cs_insn *insn;
    size_t count = cs_disasm(cpu->code32 ? t->cs32 : t->cs16, bytes, len, cpu->eip, 1, &insn);
    if (count == 1) {
        fprintf(t->log, "%s%s%s\n", insn->mnemonic, insn->op_str[0] ? " " : "", insn->op_str);
        cs_free(insn, count);
    } else {
        /* Capstone lacks a few encodings the CPU has (and the other way
         * round): say so rather than guess. */
        fprintf(t->log, "(not disassembled)\n");
    }
}

void trace_code(void *opaque, const char *heading, uint64_t addr, const uint8_t *bytes,
                size_t len, unsigned bits)
{
    struct trace *t = opaque;
    csh h = bits == 64 ? t->cs64 : bits == 32 ? t->cs32 : t->cs16;
    int width = bits == 64 ? 16 : bits == 32 ? 8 : 4;
    fprintf(t->log, "%s\n", heading);
    cs_insn *insn;
    size_t n = cs_disasm(h, bytes, len, addr, 0, &insn);
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        fprintf(t->log, "  %0*llx  %s%s%s\n", width, (unsigned long long)insn[i].address,
                insn[i].mnemonic, insn[i].op_str[0] ? " " : "", insn[i].op_str);
        done += insn[i].size;
    }
    if (n)
        cs_free(insn, n);
    if (done < len)
        fprintf(t->log, "  %0*llx  (%zu bytes not disassembled)\n", width,
                (unsigned long long)(addr + done), len - done);
    fprintf(t->log, "\n");
}
