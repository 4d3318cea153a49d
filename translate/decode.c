/*
 * translate/decode.c — the decoder: guest bytes -> struct insn, driven by
 * the opcode tables in decode_tables.c. Nothing else parses x86 bytes.
 *
 * One pass, in encoding order (SDM Vol. 2 2.1, Figure 2-1): prefixes,
 * opcode (one byte or 0F + one byte), ModRM, SIB, displacement,
 * immediates. Each step first checks that its bytes are there: a
 * missing byte asks the caller for more (DECODE_MORE) until 15 bytes are
 * given; an instruction longer than that is #GP(0) (SDM Vol. 2 2.3.11).
 */
#include "translate/translate.h"

#include "translate/decode_internal.h"

#define MAX_INSN_LEN 15

/* Kinds of prefix byte (SDM Vol. 2 2.1.1). */
enum prefix_kind {
    PFX_NONE = 0,
    PFX_SEG, /* 26 2E 36 3E 64 65: segment override, the last one wins */
    PFX_OPSIZE,
    PFX_ADSIZE,
    PFX_LOCK,
    PFX_REPNE,
    PFX_REP,
};

static const uint8_t prefix_kind[256] = {
    [0x26] = PFX_SEG, [0x2e] = PFX_SEG, [0x36] = PFX_SEG, [0x3e] = PFX_SEG,
    [0x64] = PFX_SEG, [0x65] = PFX_SEG, [0x66] = PFX_OPSIZE, [0x67] = PFX_ADSIZE,
    [0xf0] = PFX_LOCK, [0xf2] = PFX_REPNE, [0xf3] = PFX_REP,
};

static const uint8_t prefix_seg[256] = {
    [0x26] = SEG_ES, [0x2e] = SEG_CS, [0x36] = SEG_SS,
    [0x3e] = SEG_DS, [0x64] = SEG_FS, [0x65] = SEG_GS,
};

/*
 * 16-bit ModRM addressing (SDM Vol. 2 Table 2-1): base and index of each
 * r/m value, and whether BP makes SS the default segment. r/m 6 with
 * mod 0 is a bare disp16, handled apart.
 */
static const struct {
    uint8_t base, index, ss;
} modrm16[8] = {
    {R_EBX, R_ESI, 0}, {R_EBX, R_EDI, 0}, {R_EBP, R_ESI, 1}, {R_EBP, R_EDI, 1},
    {R_ESI, EA_NO_REG, 0}, {R_EDI, EA_NO_REG, 0}, {R_EBP, EA_NO_REG, 1}, {R_EBX, EA_NO_REG, 0},
};

/*
 * How each operand specification is resolved: where its value comes
 * from, and its width (a byte count, or one of the W_* rules).
 */
enum arg_source {
    SRC_NONE,
    SRC_RM,        /* register r/m if mod == 3, else memory */
    SRC_MEM,       /* memory only: mod == 3 is #UD */
    SRC_MEM_OPT,   /* memory if mod != 3, else no operand (x87) */
    SRC_RM_REG,    /* r/m as a register whatever mod says */
    SRC_REG,       /* ModRM.reg, general register */
    SRC_SREG,      /* ModRM.reg, segment register ES..GS */
    SRC_SREG_LOAD, /* same, and not CS */
    SRC_CREG,      /* ModRM.reg, CR0/CR2/CR3/CR4 */
    SRC_DREG,      /* ModRM.reg, DR0-DR7 */
    SRC_IMM8,      /* imm, zero-extended */
    SRC_SIMM8,     /* imm, sign-extended */
    SRC_IMM16,
    SRC_IMMZ,      /* imm of opsize bytes */
    SRC_IMM2_8,    /* imm2 */
    SRC_REL8,      /* imm = sign-extended 8-bit displacement */
    SRC_RELZ,      /* imm = sign-extended opsize displacement */
    SRC_FAR,       /* imm = offset (opsize), imm2 = selector */
    SRC_MOFFS,     /* memory at an adsize-wide absolute offset */
    SRC_FIXED_REG, /* general register `fixed` */
    SRC_FIXED_SREG,/* segment register `fixed` */
    SRC_OPC_REG,   /* general register in opcode bits 0-2 */
    SRC_ONE,
    SRC_WIDTH,     /* no operand, only a width (string instructions) */
};

enum {
    W_OPSIZE = 0x80,   /* 2 or 4 */
    W_FAR,             /* opsize + 2 */
    W_PAIR,            /* 2 * opsize */
    W_RV_MW,           /* opsize for a register, 2 for memory */
};

struct arg_rule {
    uint8_t source; /* enum arg_source */
    uint8_t width;  /* bytes, or W_* */
    uint8_t fixed;  /* register number for SRC_FIXED_* */
};

static const struct arg_rule arg_rules[DECODE_ARG_COUNT] = {
    [NONE] = {SRC_NONE, 0, 0},
    [Eb] = {SRC_RM, 1, 0},
    [Ew] = {SRC_RM, 2, 0},
    [Ed] = {SRC_RM, 4, 0},
    [Ev] = {SRC_RM, W_OPSIZE, 0},
    [Rv_Mw] = {SRC_RM, W_RV_MW, 0},
    [Gb] = {SRC_REG, 1, 0},
    [Gw] = {SRC_REG, 2, 0},
    [Gv] = {SRC_REG, W_OPSIZE, 0},
    [M] = {SRC_MEM, W_OPSIZE, 0},
    [Mb] = {SRC_MEM, 1, 0},
    [Ms] = {SRC_MEM, 6, 0},
    [Ma] = {SRC_MEM, W_PAIR, 0},
    [Mp] = {SRC_MEM, W_FAR, 0},
    [Mq] = {SRC_MEM, 8, 0},
    [Mfpu] = {SRC_MEM_OPT, 0, 0},
    [Mfx] = {SRC_MEM, 0, 0},
    [Rd] = {SRC_RM_REG, 4, 0},
    [Cd] = {SRC_CREG, 4, 0},
    [Dd] = {SRC_DREG, 4, 0},
    [Sw] = {SRC_SREG, 2, 0},
    [Sw_load] = {SRC_SREG_LOAD, 2, 0},
    [Ib] = {SRC_IMM8, 1, 0},
    [sIb] = {SRC_SIMM8, W_OPSIZE, 0},
    [Iw] = {SRC_IMM16, 2, 0},
    [Iz] = {SRC_IMMZ, W_OPSIZE, 0},
    [Ib2] = {SRC_IMM2_8, 1, 0},
    [Jb] = {SRC_REL8, W_OPSIZE, 0},
    [Jz] = {SRC_RELZ, W_OPSIZE, 0},
    [Ap] = {SRC_FAR, W_FAR, 0},
    [Ob] = {SRC_MOFFS, 1, 0},
    [Ov] = {SRC_MOFFS, W_OPSIZE, 0},
    [AL] = {SRC_FIXED_REG, 1, R_EAX},
    [eAX] = {SRC_FIXED_REG, W_OPSIZE, R_EAX},
    [CL] = {SRC_FIXED_REG, 1, R_ECX},
    [DX] = {SRC_FIXED_REG, 2, R_EDX},
    [One] = {SRC_ONE, 1, 0},
    [Zb] = {SRC_OPC_REG, 1, 0},
    [Zv] = {SRC_OPC_REG, W_OPSIZE, 0},
    [sES] = {SRC_FIXED_SREG, W_OPSIZE, SEG_ES},
    [sCS] = {SRC_FIXED_SREG, W_OPSIZE, SEG_CS},
    [sSS] = {SRC_FIXED_SREG, W_OPSIZE, SEG_SS},
    [sDS] = {SRC_FIXED_SREG, W_OPSIZE, SEG_DS},
    [sFS] = {SRC_FIXED_SREG, W_OPSIZE, SEG_FS},
    [sGS] = {SRC_FIXED_SREG, W_OPSIZE, SEG_GS},
    [Xb] = {SRC_WIDTH, 1, 0},
    [Xv] = {SRC_WIDTH, W_OPSIZE, 0},
};

/* The decoder's cursor over the instruction bytes. */
struct cursor {
    const uint8_t *bytes;
    unsigned pos;   /* next byte */
    unsigned avail; /* bytes we may look at: min(avail, 15) */
};

/*
 * 0 if `n` more bytes are there, else the status to return: a request for
 * more while fewer than 15 bytes were given, #GP once all 15 were and the
 * instruction needs more. Fetch faults on those 15 bytes come first: they
 * rank above the length limit (SDM Vol. 3A 6.9, Table 6-2: faults from
 * fetching the next instruction before faults from decoding it).
 */
static int need(const struct cursor *c, unsigned n)
{
    if (c->pos + n <= c->avail)
        return 0;
    return c->avail < MAX_INSN_LEN ? DECODE_MORE : DECODE_GP;
}

/* Reads `n` (1, 2 or 4) little-endian bytes; need() was checked. */
static uint32_t take(struct cursor *c, unsigned n)
{
    const uint8_t *p = c->bytes + c->pos;
    uint32_t v = p[0];
    if (n >= 2)
        v |= (uint32_t)p[1] << 8;
    if (n == 4)
        v |= (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    c->pos += n;
    return v;
}

/* Reads an immediate of `n` bytes, if present. */
static int take_imm(struct cursor *c, unsigned n, uint32_t *out)
{
    int r = need(c, n);
    if (r)
        return r;
    *out = take(c, n);
    return 0;
}

static int32_t sign_extend(uint32_t v, unsigned bytes)
{
    if (bytes == 1)
        return (int8_t)v;
    if (bytes == 2)
        return (int16_t)v;
    return (int32_t)v;
}

/*
 * Parses the addressing bytes after ModRM (SIB, displacement) into the
 * EA fields, for a memory operand (mod != 3). 16-bit forms per SDM Vol. 2
 * Table 2-1, 32-bit per Tables 2-2 and 2-3. Sets `default_ss` when the
 * base register is (E)BP or ESP (SDM Vol. 1 3.7.4: those bases use SS).
 */
static int parse_ea(struct cursor *c, struct insn *in, bool *default_ss)
{
    int r;
    unsigned disp_len;

    if (in->adsize == 2) {
        if (in->mod == 0 && in->rm == 6) {
            in->ea_base = EA_NO_REG;
            in->ea_index = EA_NO_REG;
            disp_len = 2;
        } else {
            in->ea_base = modrm16[in->rm].base;
            in->ea_index = modrm16[in->rm].index;
            *default_ss = modrm16[in->rm].ss;
            disp_len = in->mod == 1 ? 1 : in->mod == 2 ? 2 : 0;
        }
    } else {
        unsigned base = in->rm;
        in->ea_index = EA_NO_REG;
        if (in->rm == 4) {
            if ((r = need(c, 1)))
                return r;
            unsigned sib = take(c, 1);
            unsigned index = (sib >> 3) & 7;
            base = sib & 7;
            if (index != R_ESP) {
                in->ea_index = (uint8_t)index;
                in->ea_scale = (uint8_t)(sib >> 6);
            }
        }
        if (in->mod == 0 && base == R_EBP) {
            /* mod 0 with r/m 5, or SIB base 5: disp32, no base. */
            in->ea_base = EA_NO_REG;
            disp_len = 4;
        } else {
            in->ea_base = (uint8_t)base;
            *default_ss = base == R_ESP || base == R_EBP;
            disp_len = in->mod == 1 ? 1 : in->mod == 2 ? 4 : 0;
        }
    }
    if (disp_len) {
        if ((r = need(c, disp_len)))
            return r;
        in->disp = sign_extend(take(c, disp_len), disp_len);
    }
    return 0;
}

static unsigned rule_width(unsigned w, const struct insn *in)
{
    switch (w) {
    case W_OPSIZE:
        return in->opsize;
    case W_FAR:
        return in->opsize + 2u;
    case W_PAIR:
        return 2u * in->opsize;
    case W_RV_MW:
        return in->mod == 3 ? in->opsize : 2;
    default:
        return w;
    }
}

static void set_operand(struct operand *o, unsigned kind, unsigned width, unsigned reg)
{
    o->kind = (uint8_t)kind;
    o->width = (uint8_t)width;
    o->reg = (uint8_t)reg;
}

/*
 * Resolves one operand specification, reading its immediate bytes if it
 * has any. Returns 0, DECODE_UD for a register the encoding may not
 * name, or what need() says.
 */
static int resolve(struct cursor *c, struct insn *in, struct operand *o, unsigned arg,
                   bool *default_ss)
{
    const struct arg_rule *rule = &arg_rules[arg];
    unsigned width = rule_width(rule->width, in);
    uint32_t v = 0;
    int r = 0;

    switch (rule->source) {
    case SRC_NONE:
        break;
    case SRC_RM:
        set_operand(o, in->mod == 3 ? OPND_REG : OPND_MEM, width, in->mod == 3 ? in->rm : 0);
        break;
    case SRC_MEM:
        if (in->mod == 3)
            return DECODE_UD;
        set_operand(o, OPND_MEM, width, 0);
        break;
    case SRC_MEM_OPT:
        if (in->mod != 3)
            set_operand(o, OPND_MEM, 0, 0);
        break;
    case SRC_RM_REG:
        set_operand(o, OPND_REG, width, in->rm);
        break;
    case SRC_REG:
        set_operand(o, OPND_REG, width, in->reg);
        break;
    case SRC_SREG_LOAD:
        /* MOV CS, r/m is #UD (SDM MOV: "the MOV instruction cannot be
         * used to load the CS register"). */
        if (in->reg == SEG_CS)
            return DECODE_UD;
        /* fall through */
    case SRC_SREG:
        if (in->reg >= SEG_COUNT)
            return DECODE_UD;
        set_operand(o, OPND_SREG, width, in->reg);
        break;
    case SRC_CREG:
        /* CR1 and CR5-CR7 are reserved: #UD (SDM MOV CR). */
        if (in->reg == 1 || in->reg > 4)
            return DECODE_UD;
        set_operand(o, OPND_CREG, width, in->reg);
        break;
    case SRC_DREG:
        /* DR4/DR5 decode; the handler applies CR4.DE (SDM 17.2.2). */
        set_operand(o, OPND_DREG, width, in->reg);
        break;
    case SRC_IMM8:
    case SRC_SIMM8:
    case SRC_REL8:
        if ((r = take_imm(c, 1, &v)))
            return r;
        in->imm = rule->source == SRC_IMM8 ? v : (uint32_t)sign_extend(v, 1);
        set_operand(o, OPND_IMM, width, 0);
        break;
    case SRC_IMM16:
        if ((r = take_imm(c, 2, &v)))
            return r;
        in->imm = v;
        set_operand(o, OPND_IMM, width, 0);
        break;
    case SRC_IMMZ:
    case SRC_RELZ:
        if ((r = take_imm(c, in->opsize, &v)))
            return r;
        in->imm = rule->source == SRC_IMMZ ? v : (uint32_t)sign_extend(v, in->opsize);
        set_operand(o, OPND_IMM, width, 0);
        break;
    case SRC_IMM2_8:
        if ((r = take_imm(c, 1, &v)))
            return r;
        in->imm2 = v;
        set_operand(o, OPND_IMM2, width, 0);
        break;
    case SRC_FAR:
        if ((r = need(c, in->opsize + 2u)))
            return r;
        in->imm = take(c, in->opsize);
        in->imm2 = take(c, 2);
        set_operand(o, OPND_IMM, width, 0);
        break;
    case SRC_MOFFS:
        if ((r = take_imm(c, in->adsize, &v)))
            return r;
        in->disp = (int32_t)v;
        in->ea_base = EA_NO_REG;
        in->ea_index = EA_NO_REG;
        *default_ss = false;
        set_operand(o, OPND_MEM, width, 0);
        break;
    case SRC_FIXED_REG:
        set_operand(o, OPND_REG, width, rule->fixed);
        break;
    case SRC_FIXED_SREG:
        set_operand(o, OPND_SREG, width, rule->fixed);
        break;
    case SRC_OPC_REG:
        set_operand(o, OPND_REG, width, in->opcode & 7);
        break;
    case SRC_ONE:
        set_operand(o, OPND_ONE, width, 0);
        break;
    case SRC_WIDTH:
        set_operand(o, OPND_NONE, width, 0);
        break;
    }
    return 0;
}

/* Reads the prefixes; returns 0 with c->pos at the opcode, or a status. */
static int parse_prefixes(struct cursor *c, struct insn *in, bool code32)
{
    bool opsize_flip = false, adsize_flip = false;

    for (;;) {
        int r = need(c, 1);
        if (r)
            return r;
        uint8_t b = c->bytes[c->pos];
        switch (prefix_kind[b]) {
        case PFX_NONE:
            in->opsize = code32 != opsize_flip ? 4 : 2;
            in->adsize = code32 != adsize_flip ? 4 : 2;
            return 0;
        case PFX_SEG:
            in->seg_override = prefix_seg[b];
            break;
        case PFX_OPSIZE:
            opsize_flip = true;
            break;
        case PFX_ADSIZE:
            adsize_flip = true;
            break;
        case PFX_LOCK:
            in->lock = 1;
            break;
        case PFX_REPNE:
            in->rep = REP_NE;
            break;
        case PFX_REP:
            in->rep = REP_E;
            break;
        }
        c->pos++;
    }
}

/* LOCK is legal only on the read-modify-write forms the SDM lists, with
 * a memory destination (SDM Vol. 2 LOCK: otherwise #UD). */
static bool lock_allowed(const struct decode_entry *e, const struct insn *in)
{
    return (e->flags & D_LOCK) && in->dst.kind == OPND_MEM;
}

int decode_insn(struct insn *in, const uint8_t *bytes, unsigned avail, bool code32)
{
    struct cursor c = {bytes, 0, avail < MAX_INSN_LEN ? avail : MAX_INSN_LEN};
    const struct decode_entry *e;
    bool default_ss = false;
    int r;

    *in = (struct insn){
        .seg_override = SEG_NONE,
        .ea_base = EA_NO_REG,
        .ea_index = EA_NO_REG,
    };
    if ((r = parse_prefixes(&c, in, code32)))
        return r;

    /* Opcode: one byte, or 0F and one byte (SDM Vol. 2 2.1.2). */
    unsigned opcode = take(&c, 1);
    if (opcode == 0x0f) {
        if ((r = need(&c, 1)))
            return r;
        opcode = 0x100 | take(&c, 1);
        e = &decode_map_0f[opcode & 0xff];
    } else {
        e = &decode_map_1byte[opcode];
    }
    in->opcode = (uint16_t)opcode;
    if (!(e->flags & D_MODRM) && e->op == OP_INVALID)
        return DECODE_UD;

    if (e->flags & D_MODRM) {
        if ((r = need(&c, 1)))
            return r;
        unsigned modrm = take(&c, 1);
        in->has_modrm = 1;
        in->modrm = (uint8_t)modrm;
        in->mod = (uint8_t)(modrm >> 6);
        in->reg = (uint8_t)((modrm >> 3) & 7);
        in->rm = (uint8_t)(modrm & 7);
        if (e->flags & D_GROUP)
            e = &decode_groups[e->group][in->reg];
        if (in->mod != 3 && !(e->flags & D_MODRM_REG) && (r = parse_ea(&c, in, &default_ss)))
            return r;
        if (e->op == OP_INVALID)
            return DECODE_UD;
    }

    if ((r = resolve(&c, in, &in->dst, e->dst, &default_ss)) ||
        (r = resolve(&c, in, &in->src, e->src, &default_ss)) ||
        (r = resolve(&c, in, &in->src2, e->src2, &default_ss)))
        return r;
    if (in->lock && !lock_allowed(e, in))
        return DECODE_UD;

    in->op = e->op;
    in->len = (uint8_t)c.pos;
    if (e->flags & D_COND)
        in->cond = (uint8_t)(opcode & 0xf);
    in->seg = in->seg_override != SEG_NONE ? in->seg_override
              : default_ss                 ? SEG_SS
                                           : SEG_DS;
    in->fn = cpu_insn_handler((enum op)e->op);
    return (int)c.pos;
}
