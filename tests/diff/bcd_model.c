/*
 * bcd_model.c — the decimal-adjust instructions written straight from
 * the pseudocode of their SDM Vol. 2 pages, as the oracle for Glass's
 * cpu/bcd.c (the host cannot run them: they are invalid in 64-bit mode).
 *
 * The flags the SDM leaves undefined are modelled at what a P6 gives
 * (the sources are in cpu/bcd.c's header) and compared too: OF = 0 after
 * all six; after AAA/AAS, SF ZF PF follow the final AL; after AAM/AAD,
 * AF = CF = 0. Every instruction thus defines all six arithmetic flags.
 */
#include "diff.h"

static int parity(uint8_t v)
{
    v ^= v >> 4;
    v ^= v >> 2;
    v ^= v >> 1;
    return !(v & 1);
}

static uint32_t szp(uint8_t al)
{
    return (al & 0x80 ? DF_SF : 0) | (al == 0 ? DF_ZF : 0) | (parity(al) ? DF_PF : 0);
}

int bcd_model(uint8_t op, uint8_t imm, uint32_t *eax, uint32_t *eflags, uint32_t *defined)
{
    uint8_t al = (uint8_t)*eax, ah = (uint8_t)(*eax >> 8);
    uint32_t f = *eflags;
    int cf = f & DF_CF, af = f & DF_AF;
    switch (op) {
    case 0x27: { /* DAA */
        uint8_t old_al = al;
        int old_cf = cf;
        cf = 0;
        if ((al & 0xf) > 9 || af) {
            cf = old_cf || al > 0xf9; /* carry out of AL + 6 */
            al = (uint8_t)(al + 6);
            af = 1;
        } else {
            af = 0;
        }
        if (old_al > 0x99 || old_cf) {
            al = (uint8_t)(al + 0x60);
            cf = 1;
        } else {
            cf = 0;
        }
        f = szp(al) | (af ? DF_AF : 0) | (cf ? DF_CF : 0); /* OF = 0 (P6) */
        *defined = DF_ARITH;
        break;
    }
    case 0x2f: { /* DAS */
        uint8_t old_al = al;
        int old_cf = cf;
        cf = 0;
        if ((al & 0xf) > 9 || af) {
            cf = old_cf || al < 6; /* borrow from AL - 6 */
            al = (uint8_t)(al - 6);
            af = 1;
        } else {
            af = 0;
        }
        if (old_al > 0x99 || old_cf) {
            al = (uint8_t)(al - 0x60);
            cf = 1;
        }
        f = szp(al) | (af ? DF_AF : 0) | (cf ? DF_CF : 0); /* OF = 0 (P6) */
        *defined = DF_ARITH;
        break;
    }
    case 0x37: /* AAA */
    case 0x3f: /* AAS */
        if ((al & 0xf) > 9 || af) {
            uint16_t ax = (uint16_t)(al | (ah << 8));
            ax = op == 0x37 ? (uint16_t)(ax + 0x106) : (uint16_t)(ax - 6);
            if (op == 0x3f)
                ax = (uint16_t)((ax & 0xff) | (((ax >> 8) - 1) & 0xff) << 8);
            al = (uint8_t)ax;
            ah = (uint8_t)(ax >> 8);
            af = cf = 1;
        } else {
            af = cf = 0;
        }
        al &= 0xf;
        /* P6: SF ZF PF from the final AL, OF = 0. */
        f = szp(al) | (af ? DF_AF : 0) | (cf ? DF_CF : 0);
        *defined = DF_ARITH;
        break;
    case 0xd4: /* AAM */
        if (imm == 0)
            return 0;
        ah = (uint8_t)(al / imm);
        al = (uint8_t)(al % imm);
        f = szp(al); /* P6: OF = AF = CF = 0 */
        *defined = DF_ARITH;
        break;
    case 0xd5: /* AAD */
        al = (uint8_t)(al + ah * imm);
        ah = 0;
        f = szp(al); /* P6: OF = AF = CF = 0 */
        *defined = DF_ARITH;
        break;
    case 0xd6: /* SALC */
        al = cf ? 0xff : 0;
        *defined = DF_ARITH;
        break;
    default:
        return 6;
    }
    *eax = (*eax & 0xffff0000u) | al | ((uint32_t)ah << 8);
    *eflags = (*eflags & ~*defined) | (f & *defined);
    return -1;
}
