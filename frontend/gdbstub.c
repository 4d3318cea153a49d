/*
 * frontend/gdbstub.c — GDB's remote serial protocol ("Debugging with
 * GDB", appendix E "GDB Remote Serial Protocol" and appendix G "Target
 * Descriptions"), so that a stock gdb can stop, step and inspect the
 * guest: the packet framing, an i386 target description (core registers,
 * segment selectors, x87, and a Glass feature with the control registers
 * and the hidden segment bases), registers in gdb's order, memory by
 * linear address through the guest's page tables, breakpoints and
 * watchpoints kept by the CPU (cpu/debugger.c: nothing is written into
 * guest memory), step, continue, Ctrl-C, monitor commands (qRcmd),
 * detach and kill.
 *
 * The connection is not read here: the session code (frontend/session.c)
 * hands received bytes to gdbstub_input and sends what `write` is given.
 * Every packet is bounded (GDB_PACKET_MAX) and every field checked: a
 * malformed packet gets an error reply or an empty one ("not supported"),
 * never a crash.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */

#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "translate/translate.h"

/* The registers, in the numbering the target description gives them. */
enum gdb_reg {
    GR_EAX, GR_ECX, GR_EDX, GR_EBX, GR_ESP, GR_EBP, GR_ESI, GR_EDI,
    GR_EIP, GR_EFLAGS, GR_CS, GR_SS, GR_DS, GR_ES, GR_FS, GR_GS,
    GR_ST0, GR_ST7 = GR_ST0 + 7,
    GR_FCTRL, GR_FSTAT, GR_FTAG, GR_FISEG, GR_FIOFF, GR_FOSEG, GR_FOOFF, GR_FOP,
    GR_CR0, GR_CR2, GR_CR3, GR_CR4,
    GR_ES_BASE, GR_CS_BASE, GR_SS_BASE, GR_DS_BASE, GR_FS_BASE, GR_GS_BASE,
    GR_GDTR_BASE, GR_GDTR_LIMIT, GR_IDTR_BASE, GR_IDTR_LIMIT, GR_LDTR, GR_TR,
    GR_COUNT
};

/* gdb orders the segment registers cs ss ds es fs gs; struct cpu keeps
 * them in their encoding order (es cs ss ds fs gs). */
static const int gdb_seg_order[6] = { SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS };
static const int base_seg_order[6] = { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

static unsigned reg_size(int r)
{
    return r >= GR_ST0 && r <= GR_ST7 ? 10 : 4;
}

/* The target description (appendix G): gdb's i386 core feature names
 * and a Glass feature for the system state. */
static const char target_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
    "<target version=\"1.0\">\n"
    "<architecture>i386</architecture>\n"
    "<feature name=\"org.gnu.gdb.i386.core\">\n"
    "<flags id=\"i386_eflags\" size=\"4\">\n"
    "<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>\n"
    "<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>\n"
    "<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>\n"
    "<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>\n"
    "<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>\n"
    "<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>\n"
    "<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>\n"
    "<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>\n"
    "<field name=\"ID\" start=\"21\" end=\"21\"/>\n"
    "</flags>\n"
    "<reg name=\"eax\" bitsize=\"32\" type=\"int32\" regnum=\"0\"/>\n"
    "<reg name=\"ecx\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"edx\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ebx\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"esp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "<reg name=\"ebp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "<reg name=\"esi\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"edi\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>\n"
    "<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>\n"
    "<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "</feature>\n"
    "<feature name=\"org.glass.i386.system\">\n"
    "<reg name=\"cr0\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"cr2\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"cr3\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"cr4\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"es_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"cs_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"ss_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"ds_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"fs_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"gs_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"gdtr_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"gdtr_limit\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"idtr_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"idtr_limit\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"ldtr\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"tr\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "</feature>\n"
    "</target>\n";

enum rx_state { RX_IDLE, RX_DATA, RX_SUM1, RX_SUM2 };

struct gdbstub {
    struct pc *pc;
    struct monitor *mon;
    void (*write)(void *opaque, const void *buf, size_t len);
    void *opaque;
    /* The packet being received. */
    enum rx_state rx;
    char pkt[GDB_PACKET_MAX + 1];
    size_t len;
    bool overflow;
    uint8_t sum;     /* of the data received */
    uint8_t sum_rx;  /* the checksum's first hex digit */
    bool no_ack;     /* QStartNoAckMode */
    bool running;    /* gdb waits for a stop reply */
    bool detached;
    bool kill;
    uint8_t data[GDB_PACKET_MAX]; /* X's decoded bytes */
    /* The reply being built. */
    char out[2 * GDB_PACKET_MAX + 8];
    size_t out_len;
};

struct gdbstub *gdbstub_new(struct pc *pc, struct monitor *mon,
                            void (*write)(void *opaque, const void *buf, size_t len),
                            void *opaque)
{
    struct gdbstub *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->pc = pc;
    g->mon = mon;
    g->write = write;
    g->opaque = opaque;
    return g;
}

void gdbstub_free(struct gdbstub *g)
{
    free(g);
}

bool gdbstub_detached(const struct gdbstub *g)
{
    return g->detached;
}

bool gdbstub_kill_requested(const struct gdbstub *g)
{
    return g->kill;
}

/* ------------------------------------------------------------------ */
/* Hex and replies                                                     */
/* ------------------------------------------------------------------ */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static const char hexdig[] = "0123456789abcdef";

/* Parses hex digits up to a character not in [0-9a-fA-F]; at least one
 * and at most 16. Advances *p. */
static bool parse_hex(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    unsigned n = 0;
    int d;
    while ((d = hexval(*s)) >= 0) {
        if (++n > 16)
            return false;
        x = x << 4 | (uint64_t)d;
        s++;
    }
    if (n == 0)
        return false;
    *v = x;
    *p = s;
    return true;
}

/* Decodes 2*n hex digits into buf. */
static bool unhex(const char *s, size_t avail, uint8_t *buf, size_t n)
{
    if (avail < 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        buf[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static void out_reset(struct gdbstub *g)
{
    g->out_len = 0;
}

static void out_str(struct gdbstub *g, const char *s)
{
    size_t n = strlen(s);
    if (g->out_len + n > sizeof(g->out))
        n = sizeof(g->out) - g->out_len;
    memcpy(g->out + g->out_len, s, n);
    g->out_len += n;
}

static void out_hex(struct gdbstub *g, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n && g->out_len + 2 <= sizeof(g->out); i++) {
        g->out[g->out_len++] = hexdig[buf[i] >> 4];
        g->out[g->out_len++] = hexdig[buf[i] & 15];
    }
}

/* Binary data in a reply: '#', '$', '}' and '*' are escaped (E.1). */
static void out_binary(struct gdbstub *g, const char *buf, size_t n)
{
    for (size_t i = 0; i < n && g->out_len + 2 <= sizeof(g->out); i++) {
        char c = buf[i];
        if (c == '#' || c == '$' || c == '}' || c == '*') {
            g->out[g->out_len++] = '}';
            g->out[g->out_len++] = (char)(c ^ 0x20);
        } else {
            g->out[g->out_len++] = c;
        }
    }
}

/* Frames the reply as $data#cs and sends it. */
static void send_packet(struct gdbstub *g, const char *data, size_t n)
{
    char frame[sizeof(g->out) + 4];
    uint8_t sum = 0;
    frame[0] = '$';
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + (uint8_t)data[i]);
    memcpy(frame + 1, data, n);
    frame[n + 1] = '#';
    frame[n + 2] = hexdig[sum >> 4];
    frame[n + 3] = hexdig[sum & 15];
    g->write(g->opaque, frame, n + 4);
}

static void reply(struct gdbstub *g)
{
    send_packet(g, g->out, g->out_len);
}

static void reply_str(struct gdbstub *g, const char *s)
{
    out_reset(g);
    out_str(g, s);
    reply(g);
}

/* ------------------------------------------------------------------ */
/* Registers                                                           */
/* ------------------------------------------------------------------ */

static void put_le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Register r's bytes as gdb wants them (target byte order). */
static void reg_get(struct cpu *cpu, int r, uint8_t *b)
{
    const struct fpu *f = &cpu->fpu;
    if (r >= GR_ST0 && r <= GR_ST7) {
        const struct f80 *x = &f->st[(f->top + (r - GR_ST0)) & 7];
        for (int i = 0; i < 8; i++)
            b[i] = (uint8_t)(x->sig >> (8 * i));
        b[8] = (uint8_t)x->sign_exp;
        b[9] = (uint8_t)(x->sign_exp >> 8);
        return;
    }
    uint32_t v = 0;
    if (r <= GR_EDI)
        v = cpu->regs[r];
    else if (r == GR_EIP)
        v = cpu->eip;
    else if (r == GR_EFLAGS)
        v = cpu_get_eflags(cpu);
    else if (r >= GR_CS && r <= GR_GS)
        v = cpu->seg[gdb_seg_order[r - GR_CS]].sel;
    else if (r >= GR_ES_BASE && r <= GR_GS_BASE)
        v = cpu->seg[base_seg_order[r - GR_ES_BASE]].base;
    else switch (r) {
    case GR_FCTRL: v = f->cw; break;
    case GR_FSTAT: v = (f->sw & ~0x3800u) | (unsigned)f->top << 11; break;
    case GR_FTAG: v = fpu_tag_word(f); break;
    case GR_FISEG: v = f->fcs; break;
    case GR_FIOFF: v = f->fip; break;
    case GR_FOSEG: v = f->fds; break;
    case GR_FOOFF: v = f->fdp; break;
    case GR_FOP: v = f->fop; break;
    case GR_CR0: v = cpu->cr0; break;
    case GR_CR2: v = cpu->cr2; break;
    case GR_CR3: v = cpu->cr3; break;
    case GR_CR4: v = cpu->cr4; break;
    case GR_GDTR_BASE: v = cpu->gdtr.base; break;
    case GR_GDTR_LIMIT: v = cpu->gdtr.limit; break;
    case GR_IDTR_BASE: v = cpu->idtr.base; break;
    case GR_IDTR_LIMIT: v = cpu->idtr.limit; break;
    case GR_LDTR: v = cpu->ldtr.sel; break;
    case GR_TR: v = cpu->tr.sel; break;
    }
    put_le(b, v);
}

/* Writes register r from gdb's bytes. Returns 0, or -1 if the value
 * cannot be loaded (a selector the descriptor tables refuse). */
static int reg_set(struct cpu *cpu, int r, const uint8_t *b)
{
    struct fpu *f = &cpu->fpu;
    if (r >= GR_ST0 && r <= GR_ST7) {
        struct f80 *x = &f->st[(f->top + (r - GR_ST0)) & 7];
        x->sig = 0;
        for (int i = 0; i < 8; i++)
            x->sig |= (uint64_t)b[i] << (8 * i);
        x->sign_exp = (uint16_t)(b[8] | b[9] << 8);
        return 0;
    }
    uint32_t v = get_le(b);
    if (r <= GR_EDI) {
        cpu->regs[r] = v;
    } else if (r == GR_EIP) {
        cpu->eip = v;
        cpu->next_eip = v;
    } else if (r == GR_EFLAGS) {
        cpu_debug_set_eflags(cpu, v);
    } else if (r >= GR_CS && r <= GR_GS) {
        return cpu_debug_set_seg(cpu, gdb_seg_order[r - GR_CS], (uint16_t)v);
    } else if (r >= GR_ES_BASE && r <= GR_GS_BASE) {
        cpu->seg[base_seg_order[r - GR_ES_BASE]].base = v;
        cpu_tlb_flush(cpu);
    } else switch (r) {
    case GR_FCTRL: f->cw = (uint16_t)v; break;
    case GR_FSTAT: f->sw = (uint16_t)(v & ~0x3800u); f->top = (v >> 11) & 7; break;
    case GR_FTAG: fpu_set_tag_word(f, (uint16_t)v); break;
    case GR_FISEG: f->fcs = (uint16_t)v; break;
    case GR_FIOFF: f->fip = v; break;
    case GR_FOSEG: f->fds = (uint16_t)v; break;
    case GR_FOOFF: f->fdp = v; break;
    case GR_FOP: f->fop = (uint16_t)(v & 0x7ff); break;
    case GR_CR0: return cpu_debug_set_cr(cpu, 0, v);
    case GR_CR2: cpu->cr2 = v; break;
    case GR_CR3: return cpu_debug_set_cr(cpu, 3, v);
    case GR_CR4: return cpu_debug_set_cr(cpu, 4, v);
    case GR_GDTR_BASE: cpu->gdtr.base = v; break;
    case GR_GDTR_LIMIT: cpu->gdtr.limit = (uint16_t)v; break;
    case GR_IDTR_BASE: cpu->idtr.base = v; break;
    case GR_IDTR_LIMIT: cpu->idtr.limit = (uint16_t)v; break;
    case GR_LDTR: case GR_TR: return -1; /* a system segment load: not from a debugger */
    default: return -1;
    }
    return 0;
}

static void cmd_read_regs(struct gdbstub *g)
{
    struct cpu *cpu = pc_cpu(g->pc);
    out_reset(g);
    for (int r = 0; r < GR_COUNT; r++) {
        uint8_t b[10];
        reg_get(cpu, r, b);
        out_hex(g, b, reg_size(r));
    }
    reply(g);
}

/* G: every register from the packet; those whose value is what g gave
 * are left alone, so that G takes back exactly what g gave (a real-mode
 * segment whose base is not selector x 16 keeps its base). */
static void cmd_write_regs(struct gdbstub *g, const char *p, size_t n)
{
    struct cpu *cpu = pc_cpu(g->pc);
    size_t off = 0;
    for (int r = 0; r < GR_COUNT && off < n; r++) {
        uint8_t want[10], now[10];
        unsigned sz = reg_size(r);
        if (!unhex(p + off, n - off, want, sz)) {
            reply_str(g, "E01");
            return;
        }
        off += 2 * sz;
        reg_get(cpu, r, now);
        if (memcmp(want, now, sz) != 0 && reg_set(cpu, r, want) != 0) {
            reply_str(g, "E02");
            return;
        }
    }
    reply_str(g, "OK");
}

static void cmd_read_reg(struct gdbstub *g, const char *p)
{
    uint64_t r;
    if (!parse_hex(&p, &r) || *p) {
        reply_str(g, "E01");
        return;
    }
    if (r >= GR_COUNT) {
        reply_str(g, "E00"); /* no such register */
        return;
    }
    uint8_t b[10];
    reg_get(pc_cpu(g->pc), (int)r, b);
    out_reset(g);
    out_hex(g, b, reg_size((int)r));
    reply(g);
}

/* P: one register, loaded as an instruction would (a segment register
 * through the current mode's rules, every time). */
static void cmd_write_reg(struct gdbstub *g, const char *p, size_t n)
{
    const char *end = p + n;
    uint64_t r;
    if (!parse_hex(&p, &r) || *p != '=' || r >= GR_COUNT) {
        reply_str(g, "E01");
        return;
    }
    p++;
    uint8_t b[10];
    if (!unhex(p, (size_t)(end - p), b, reg_size((int)r)) ||
        (size_t)(end - p) != 2 * reg_size((int)r)) {
        reply_str(g, "E01");
        return;
    }
    reply_str(g, reg_set(pc_cpu(g->pc), (int)r, b) == 0 ? "OK" : "E02");
}

/* ------------------------------------------------------------------ */
/* Memory                                                              */
/* ------------------------------------------------------------------ */

/* "ADDR,LEN" with the address 32 bits (linear) and LEN bounded. */
static bool parse_addr_len(const char **p, uint32_t *addr, uint32_t *len, uint32_t max)
{
    uint64_t a, l;
    if (!parse_hex(p, &a) || **p != ',')
        return false;
    (*p)++;
    if (!parse_hex(p, &l) || a > 0xffffffffu || l > max)
        return false;
    *addr = (uint32_t)a;
    *len = (uint32_t)l;
    return true;
}

#define MEM_MAX ((GDB_PACKET_MAX - 8) / 2)

static void cmd_read_mem(struct gdbstub *g, const char *p)
{
    uint32_t addr, len;
    if (!parse_addr_len(&p, &addr, &len, 0xffffffffu) || *p) {
        reply_str(g, "E01");
        return;
    }
    if (len > MEM_MAX)
        len = MEM_MAX; /* gdb asks again for the rest */
    uint8_t buf[MEM_MAX];
    size_t got = cpu_debug_read(pc_cpu(g->pc), addr, buf, len);
    if (got == 0 && len > 0) {
        reply_str(g, "E14"); /* EFAULT: not mapped */
        return;
    }
    out_reset(g);
    out_hex(g, buf, got);
    reply(g);
}

static void write_mem(struct gdbstub *g, uint32_t addr, const uint8_t *buf, uint32_t len)
{
    size_t put = cpu_debug_write(pc_cpu(g->pc), addr, buf, len);
    reply_str(g, put == len ? "OK" : "E14");
}

static void cmd_write_mem_hex(struct gdbstub *g, const char *p, size_t n)
{
    const char *end = p + n;
    uint32_t addr, len;
    uint8_t buf[MEM_MAX];
    if (!parse_addr_len(&p, &addr, &len, MEM_MAX) || *p != ':' ||
        (size_t)(end - p - 1) != 2 * (size_t)len || !unhex(p + 1, (size_t)(end - p - 1), buf, len)) {
        reply_str(g, "E01");
        return;
    }
    write_mem(g, addr, buf, len);
}

/* X: the data is binary, with '}' escapes (E.1). */
static void cmd_write_mem_bin(struct gdbstub *g, const char *p, size_t n)
{
    const char *end = p + n;
    uint32_t addr, len;
    if (!parse_addr_len(&p, &addr, &len, GDB_PACKET_MAX) || *p != ':') {
        reply_str(g, "E01");
        return;
    }
    p++;
    uint8_t *buf = g->data;
    uint32_t got = 0;
    while (p < end && got < len) {
        char c = *p++;
        if (c == '}') {
            if (p == end)
                break;
            c = (char)(*p++ ^ 0x20);
        }
        buf[got++] = (uint8_t)c;
    }
    if (got != len || p != end) {
        reply_str(g, "E01");
        return;
    }
    write_mem(g, addr, buf, len);
}

/* ------------------------------------------------------------------ */
/* Breakpoints and watchpoints                                         */
/* ------------------------------------------------------------------ */

static void cmd_point(struct gdbstub *g, bool insert, const char *p)
{
    char type = *p++;
    uint64_t addr, kind;
    if (type < '0' || type > '4' || *p++ != ',' || !parse_hex(&p, &addr) || *p++ != ',' ||
        !parse_hex(&p, &kind) || addr > 0xffffffffu) {
        reply_str(g, "E01");
        return;
    }
    /* Conditions and commands after ';' are not supported: gdb then
     * evaluates them itself. */
    if (*p && *p != ';') {
        reply_str(g, "E01");
        return;
    }
    struct cpu *cpu = pc_cpu(g->pc);
    int rc;
    if (type == '0' || type == '1') {
        rc = insert ? cpu_dbg_break_insert(cpu, (uint32_t)addr)
                    : cpu_dbg_break_remove(cpu, (uint32_t)addr);
    } else {
        static const enum cpu_watch_kind kinds[3] = { CPU_WATCH_WRITE, CPU_WATCH_READ,
                                                      CPU_WATCH_ACCESS };
        enum cpu_watch_kind k = kinds[type - '2'];
        if (kind == 0 || kind > 4096) {
            reply_str(g, "E01");
            return;
        }
        rc = insert ? cpu_dbg_watch_insert(cpu, (uint32_t)addr, (uint32_t)kind, k)
                    : cpu_dbg_watch_remove(cpu, (uint32_t)addr, (uint32_t)kind, k);
    }
    /* A full list is an error gdb reports ("cannot insert"). */
    reply_str(g, rc == 0 ? "OK" : "E0e");
}

/* ------------------------------------------------------------------ */
/* Stops                                                               */
/* ------------------------------------------------------------------ */

static void send_stop(struct gdbstub *g, int signal, const struct cpu_dbg_stop *why)
{
    char buf[64];
    out_reset(g);
    snprintf(buf, sizeof(buf), "T%02xthread:01;", signal);
    out_str(g, buf);
    if (why && why->kind == CPU_DBG_WATCH) {
        static const char *const names[4] = { "", "watch", "rwatch", "awatch" };
        snprintf(buf, sizeof(buf), "%s:%08x;", names[why->watch_kind & 3], why->addr);
        out_str(g, buf);
    }
    reply(g);
}

#define GDB_SIGINT 2
#define GDB_SIGTRAP 5

void gdbstub_stopped(struct gdbstub *g, const struct cpu_dbg_stop *why)
{
    if (!g->running)
        return;
    g->running = false;
    send_stop(g, GDB_SIGTRAP, why);
}

void gdbstub_exited(struct gdbstub *g, int status)
{
    char buf[8];
    snprintf(buf, sizeof(buf), "W%02x", status & 0xff);
    reply_str(g, buf);
}

/* c [ADDR] / s [ADDR]: an address resumes there. */
static bool resume_at(struct gdbstub *g, const char *p)
{
    if (!*p)
        return true;
    uint64_t a;
    if (!parse_hex(&p, &a) || *p || a > 0xffffffffu)
        return false;
    pc_cpu(g->pc)->eip = (uint32_t)a;
    return true;
}

static void cmd_continue(struct gdbstub *g, const char *p)
{
    if (!resume_at(g, p)) {
        reply_str(g, "E01");
        return;
    }
    g->running = true;
    pc_resume(g->pc);
}

static void cmd_step(struct gdbstub *g, const char *p)
{
    if (!resume_at(g, p)) {
        reply_str(g, "E01");
        return;
    }
    enum cpu_exit why = pc_debug_step(g->pc);
    send_stop(g, GDB_SIGTRAP, why == CPU_EXIT_DEBUG ? &pc_cpu(g->pc)->dbg.stop : NULL);
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */
/* ------------------------------------------------------------------ */

/* qXfer:features:read:target.xml:OFFSET,LENGTH */
static void cmd_xfer_features(struct gdbstub *g, const char *p)
{
    static const char annex[] = "target.xml:";
    if (strncmp(p, annex, sizeof(annex) - 1) != 0) {
        reply_str(g, "E00");
        return;
    }
    p += sizeof(annex) - 1;
    uint64_t off, len;
    if (!parse_hex(&p, &off) || *p++ != ',' || !parse_hex(&p, &len) || *p) {
        reply_str(g, "E01");
        return;
    }
    size_t total = sizeof(target_xml) - 1;
    if (len > GDB_PACKET_MAX / 2)
        len = GDB_PACKET_MAX / 2; /* room for escapes */
    out_reset(g);
    if (off >= total) {
        out_str(g, "l");
    } else {
        size_t n = total - off < len ? total - off : len;
        out_str(g, off + n >= total ? "l" : "m");
        out_binary(g, target_xml + off, n);
    }
    reply(g);
}

/* qRcmd,HEX: a monitor command; its output as O packets, then OK. */
static void cmd_rcmd(struct gdbstub *g, const char *p, size_t n)
{
    char line[MONITOR_LINE_MAX];
    if (n % 2 || n / 2 >= sizeof(line) || !unhex(p, n, (uint8_t *)line, n / 2)) {
        reply_str(g, "E01");
        return;
    }
    line[n / 2] = '\0';
    if (!g->mon) {
        reply_str(g, "E01");
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) {
        reply_str(g, "E0c");
        return;
    }
    monitor_execute(g->mon, line, out);
    fclose(out);
    /* O packets of at most a quarter of the packet size each. */
    for (size_t off = 0; off < len;) {
        size_t chunk = len - off < GDB_PACKET_MAX / 4 ? len - off : GDB_PACKET_MAX / 4;
        out_reset(g);
        out_str(g, "O");
        out_hex(g, (const uint8_t *)text + off, chunk);
        reply(g);
        off += chunk;
    }
    free(text);
    reply_str(g, "OK");
}

static bool starts(const char *p, const char *prefix)
{
    return strncmp(p, prefix, strlen(prefix)) == 0;
}

static void cmd_query(struct gdbstub *g, const char *p, size_t n)
{
    if (starts(p, "qSupported")) {
        char buf[96];
        snprintf(buf, sizeof(buf), "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+",
                 GDB_PACKET_MAX);
        reply_str(g, buf);
    } else if (starts(p, "qXfer:features:read:")) {
        cmd_xfer_features(g, p + strlen("qXfer:features:read:"));
    } else if (starts(p, "qRcmd,")) {
        cmd_rcmd(g, p + 6, n - 6);
    } else if (!strcmp(p, "qAttached")) {
        reply_str(g, "1");
    } else if (!strcmp(p, "qC")) {
        reply_str(g, "QC01");
    } else if (!strcmp(p, "qfThreadInfo")) {
        reply_str(g, "m01");
    } else if (!strcmp(p, "qsThreadInfo")) {
        reply_str(g, "l");
    } else if (!strcmp(p, "QStartNoAckMode")) {
        reply_str(g, "OK");
        g->no_ack = true;
    } else {
        reply_str(g, ""); /* not supported */
    }
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

static void handle_packet(struct gdbstub *g, const char *p, size_t n)
{
    if (n == 0) {
        reply_str(g, "");
        return;
    }
    switch (p[0]) {
    case '?':
        /* gdb attaches to a stopped target: stop it. */
        pc_pause(g->pc);
        g->running = false;
        send_stop(g, GDB_SIGTRAP, NULL);
        break;
    case 'g': cmd_read_regs(g); break;
    case 'G': cmd_write_regs(g, p + 1, n - 1); break;
    case 'p': cmd_read_reg(g, p + 1); break;
    case 'P': cmd_write_reg(g, p + 1, n - 1); break;
    case 'm': cmd_read_mem(g, p + 1); break;
    case 'M': cmd_write_mem_hex(g, p + 1, n - 1); break;
    case 'X': cmd_write_mem_bin(g, p + 1, n - 1); break;
    case 'Z': cmd_point(g, true, p + 1); break;
    case 'z': cmd_point(g, false, p + 1); break;
    case 'c': cmd_continue(g, p + 1); break;
    case 's': cmd_step(g, p + 1); break;
    case 'H': reply_str(g, "OK"); break; /* one thread */
    case 'T': reply_str(g, "OK"); break; /* it is alive */
    case 'q': case 'Q': cmd_query(g, p, n); break;
    case 'D':
        /* Detach: the debugger's points go, the guest runs on. */
        cpu_dbg_clear(pc_cpu(g->pc));
        reply_str(g, "OK");
        g->detached = true;
        g->running = false;
        pc_resume(g->pc);
        break;
    case 'k':
        g->kill = true;
        break;
    default:
        reply_str(g, ""); /* not supported */
        break;
    }
}

void gdbstub_input(struct gdbstub *g, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n && !g->detached && !g->kill; i++) {
        uint8_t c = buf[i];
        switch (g->rx) {
        case RX_IDLE:
            if (c == '$') {
                g->rx = RX_DATA;
                g->len = 0;
                g->sum = 0;
                g->overflow = false;
            } else if (c == 0x03) {
                /* Ctrl-C: stop a running target. */
                if (g->running) {
                    pc_pause(g->pc);
                    g->running = false;
                    send_stop(g, GDB_SIGINT, NULL);
                }
            }
            /* '+', '-' and noise between packets are ignored. */
            break;
        case RX_DATA:
            if (c == '#') {
                g->rx = RX_SUM1;
            } else {
                g->sum = (uint8_t)(g->sum + c);
                if (g->len < GDB_PACKET_MAX)
                    g->pkt[g->len++] = (char)c;
                else
                    g->overflow = true;
            }
            break;
        case RX_SUM1:
            if (hexval((char)c) < 0) {
                g->rx = RX_IDLE;
                if (!g->no_ack)
                    g->write(g->opaque, "-", 1);
                break;
            }
            g->sum_rx = (uint8_t)(hexval((char)c) << 4);
            g->rx = RX_SUM2;
            break;
        case RX_SUM2: {
            g->rx = RX_IDLE;
            int lo = hexval((char)c);
            bool ok = lo >= 0 && (uint8_t)(g->sum_rx | lo) == g->sum && !g->overflow;
            if (!g->no_ack)
                g->write(g->opaque, ok ? "+" : "-", 1);
            if (!ok)
                break;
            g->pkt[g->len] = '\0';
            /* A NUL inside the data would cut the string handlers see:
             * such a packet is malformed for every command but X, whose
             * length comes from the count. */
            handle_packet(g, g->pkt, g->len);
            break;
        }
        }
    }
}
