/*
 * gen.h — the case generator of the differential test: (seed, index) ->
 * an instruction sequence and initial state. The sequences use only
 * encodings that mean the same in 32-bit protected mode (Glass) and in
 * 64-bit mode (the host, which on the machines we build on cannot run
 * 32-bit code: no IA-32 emulation): no INC/DEC 40-4F (REX there), no
 * BCD (invalid there; checked against a model instead), absolute memory
 * operands through a SIB byte without base (mod 00 r/m 101 would be
 * RIP-relative), no 67 prefix.
 */
#ifndef GLASS_DIFF_GEN_H
#define GLASS_DIFF_GEN_H

#include <stdint.h>

/* Fixed guest/native addresses: both sides map these (below 2 GiB, so
 * that a disp32 reaches them in 64-bit mode too). */
#define DIFF_CODE_ADDR 0x10010000u
#define DIFF_BUF_ADDR 0x10020000u
#define DIFF_BUF_SIZE 1024u
#define DIFF_STACK_TOP 0x10038000u

#define DIFF_MAX_INSNS 8
#define DIFF_MAX_CODE 128

#define DF_CF 0x001u
#define DF_PF 0x004u
#define DF_AF 0x010u
#define DF_ZF 0x040u
#define DF_SF 0x080u
#define DF_DF 0x400u
#define DF_OF 0x800u
#define DF_ARITH (DF_CF | DF_PF | DF_AF | DF_ZF | DF_SF | DF_OF)

struct diff_case {
    uint32_t regs[8];       /* EAX..EDI; ESP = DIFF_STACK_TOP */
    uint32_t eflags;        /* arithmetic flags and DF */
    uint8_t code[DIFF_MAX_CODE];
    uint32_t code_len;
    uint32_t n_insns;
    uint32_t insn_off[DIFF_MAX_INSNS + 1]; /* start offsets, then the end */
    /* Flags whose value is architecturally defined before instruction i
     * (index i) and at the end (index n_insns). */
    uint32_t defined[DIFF_MAX_INSNS + 1];
    const char *names[DIFF_MAX_INSNS];
    uint8_t mem[DIFF_BUF_SIZE];
};

/* What one side observed. */
struct diff_result {
    uint32_t regs[8];
    uint32_t eflags;
    int32_t vector;   /* -1: ran to the end; else the exception */
    uint32_t fault_off; /* code offset of the faulting instruction */
    uint32_t mem_hash;
};

void gen_case(uint64_t seed, uint64_t index, struct diff_case *c);
/* One to three instructions: first one of a kind that leaves flags
 * undefined (shifts and rotates, SHLD/SHRD incl. words by 17..31,
 * MUL/IMUL, DIV/IDIV, BT*, BSF/BSR, AND/OR/XOR/TEST), then such or ones
 * that read flags (SETcc, CMOVcc, LAHF, ADC, SBB, RCL/RCR), with every
 * arithmetic flag marked defined: on an x86-64 host Glass takes the
 * undefined ones from the host CPU, so they must agree too. */
void gen_case_all_flags(uint64_t seed, uint64_t index, struct diff_case *c);
/* Random inputs for the BCD model test: AL, AH, flags, immediate. */
void gen_bcd_inputs(uint64_t seed, uint64_t index, uint32_t *eax, uint32_t *eflags,
                    uint8_t *op, uint8_t *imm);
uint32_t diff_hash(const uint8_t *p, uint32_t n);

#endif
