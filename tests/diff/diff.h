/*
 * diff.h — the pieces of the differential test: the generator (gen.c),
 * the host side (native.c), Glass's side (glass_side.c), the BCD model
 * (bcd_model.c) and the driver (difftest.c).
 */
#ifndef GLASS_DIFF_H
#define GLASS_DIFF_H

#include "gen.h"

void diff_native_init(void);
void diff_native_run(const struct diff_case *c, struct diff_result *res);

struct diff_glass;
struct diff_glass *diff_glass_new(void);
void diff_glass_free(struct diff_glass *g);
/* enum cpu_engine (translate/translate.h) for the cases that do not take
 * the careful path. */
void diff_glass_set_engine(struct diff_glass *g, int engine);
void diff_glass_run(struct diff_glass *g, const struct diff_case *c, struct diff_result *res);
/* Runs one BCD instruction (opcode, immediate) in Glass. */
void diff_glass_run_bcd(struct diff_glass *g, uint8_t op, uint8_t imm, uint32_t eax,
                        uint32_t eflags, struct diff_result *res);

/* The SDM's pseudocode of DAA/DAS/AAA/AAS/AAM/AAD/SALC; returns the
 * exception vector (0 for #DE) or -1, and the flags it defines in *defined. */
int bcd_model(uint8_t op, uint8_t imm, uint32_t *eax, uint32_t *eflags, uint32_t *defined);

#endif
