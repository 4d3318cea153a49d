/*
 * cpu/dispatch.c — from an operation to its handler. Each family file
 * exports a small table; they are merged into one array indexed by op the
 * first time the decoder asks. The merged array depends only on constant
 * data, so one copy serves every CPU in the process.
 */
#include <pthread.h>
#include <stddef.h>

#include "cpu/internal.h"

static const struct op_handler *const families[] = {
    alu_handlers,    shift_handlers, muldiv_handlers, bcd_handlers,    bit_handlers,
    move_handlers,   stack_handlers, control_handlers, string_handlers, io_handlers,
    system_handlers, seg_handlers,   farctl_handlers, fpu_handlers,
};

static insn_fn handler_table[OP_COUNT];
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;

static void build_handler_table(void)
{
    for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
        for (const struct op_handler *h = families[f]; h->fn; h++)
            if (h->op < OP_COUNT)
                handler_table[h->op] = h->fn;
}

insn_fn cpu_insn_handler(enum op op)
{
    pthread_once(&handler_once, build_handler_table);
    return (unsigned)op < OP_COUNT ? handler_table[op] : NULL;
}

static const char *const op_names[OP_COUNT] = {
    [OP_INVALID] = "(invalid)",
    [OP_ADD] = "add", [OP_OR] = "or", [OP_ADC] = "adc", [OP_SBB] = "sbb", [OP_AND] = "and",
    [OP_SUB] = "sub", [OP_XOR] = "xor", [OP_CMP] = "cmp", [OP_TEST] = "test", [OP_INC] = "inc",
    [OP_DEC] = "dec", [OP_NEG] = "neg", [OP_NOT] = "not",
    [OP_ROL] = "rol", [OP_ROR] = "ror", [OP_RCL] = "rcl", [OP_RCR] = "rcr", [OP_SHL] = "shl",
    [OP_SHR] = "shr", [OP_SAL] = "sal", [OP_SAR] = "sar", [OP_SHLD] = "shld", [OP_SHRD] = "shrd",
    [OP_MUL] = "mul", [OP_IMUL1] = "imul", [OP_DIV] = "div", [OP_IDIV] = "idiv",
    [OP_IMUL2] = "imul",
    [OP_DAA] = "daa", [OP_DAS] = "das", [OP_AAA] = "aaa", [OP_AAS] = "aas", [OP_AAM] = "aam",
    [OP_AAD] = "aad", [OP_SALC] = "salc",
    [OP_MOV] = "mov", [OP_MOVZX] = "movzx", [OP_MOVSX] = "movsx", [OP_LEA] = "lea",
    [OP_XCHG] = "xchg", [OP_CBW] = "cbw", [OP_CWD] = "cwd", [OP_MOV_TO_SREG] = "mov sreg",
    [OP_LDS] = "lds", [OP_LES] = "les", [OP_LFS] = "lfs", [OP_LGS] = "lgs", [OP_LSS] = "lss",
    [OP_XLAT] = "xlat", [OP_BSWAP] = "bswap", [OP_XADD] = "xadd", [OP_CMPXCHG] = "cmpxchg",
    [OP_CMPXCHG8B] = "cmpxchg8b", [OP_CMOVCC] = "cmovcc", [OP_SETCC] = "setcc",
    [OP_LAHF] = "lahf", [OP_SAHF] = "sahf",
    [OP_PUSH] = "push", [OP_POP] = "pop", [OP_POP_SREG] = "pop sreg", [OP_PUSHA] = "pusha",
    [OP_POPA] = "popa", [OP_PUSHF] = "pushf", [OP_POPF] = "popf", [OP_ENTER] = "enter",
    [OP_LEAVE] = "leave",
    [OP_JMP] = "jmp", [OP_JCC] = "jcc", [OP_JCXZ] = "jcxz", [OP_LOOP] = "loop",
    [OP_LOOPE] = "loope", [OP_LOOPNE] = "loopne", [OP_CALL] = "call", [OP_RET] = "ret",
    [OP_JMPF] = "jmp far", [OP_CALLF] = "call far", [OP_RETF] = "retf", [OP_IRET] = "iret",
    [OP_INT] = "int", [OP_INT3] = "int3", [OP_INTO] = "into", [OP_INT1] = "int1",
    [OP_BOUND] = "bound",
    [OP_BT] = "bt", [OP_BTS] = "bts", [OP_BTR] = "btr", [OP_BTC] = "btc", [OP_BSF] = "bsf",
    [OP_BSR] = "bsr",
    [OP_MOVS] = "movs", [OP_CMPS] = "cmps", [OP_STOS] = "stos", [OP_LODS] = "lods",
    [OP_SCAS] = "scas", [OP_INS] = "ins", [OP_OUTS] = "outs",
    [OP_IN] = "in", [OP_OUT] = "out",
    [OP_CLC] = "clc", [OP_STC] = "stc", [OP_CMC] = "cmc", [OP_CLD] = "cld", [OP_STD] = "std",
    [OP_CLI] = "cli", [OP_STI] = "sti", [OP_HLT] = "hlt", [OP_NOP] = "nop", [OP_WAIT] = "wait",
    [OP_UD2] = "ud2",
    [OP_SLDT] = "sldt", [OP_STR] = "str", [OP_LLDT] = "lldt", [OP_LTR] = "ltr",
    [OP_VERR] = "verr", [OP_VERW] = "verw", [OP_SGDT] = "sgdt", [OP_SIDT] = "sidt",
    [OP_LGDT] = "lgdt", [OP_LIDT] = "lidt", [OP_SMSW] = "smsw", [OP_LMSW] = "lmsw",
    [OP_INVLPG] = "invlpg", [OP_LAR] = "lar", [OP_LSL] = "lsl", [OP_ARPL] = "arpl",
    [OP_CLTS] = "clts", [OP_INVD] = "invd", [OP_WBINVD] = "wbinvd",
    [OP_MOV_TO_CR] = "mov cr", [OP_MOV_FROM_CR] = "mov cr", [OP_MOV_TO_DR] = "mov dr",
    [OP_MOV_FROM_DR] = "mov dr", [OP_CPUID] = "cpuid", [OP_RDTSC] = "rdtsc",
    [OP_RDMSR] = "rdmsr", [OP_WRMSR] = "wrmsr", [OP_RDPMC] = "rdpmc",
    [OP_SYSENTER] = "sysenter", [OP_SYSEXIT] = "sysexit", [OP_RSM] = "rsm",
    [OP_X87] = "x87", [OP_FXSAVE] = "fxsave", [OP_FXRSTOR] = "fxrstor",
};

const char *op_name(enum op op)
{
    if ((unsigned)op >= OP_COUNT || !op_names[op])
        return "?";
    return op_names[op];
}
