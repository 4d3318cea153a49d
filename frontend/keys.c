/*
 * frontend/keys.c — the key names of QEMU's monitor (sendkey) and the
 * USB HID usage IDs the board's keyboard takes ("HID Usage Tables" 1.12,
 * chapter 10, Keyboard/Keypad page 07h), so that a command that works
 * with QEMU works with Glass.
 */
#include <string.h>

#include "frontend/frontend.h"

struct key_name {
    const char *name;
    uint8_t usage;
};

static const struct key_name key_names[] = {
    { "ret", 0x28 }, { "esc", 0x29 }, { "backspace", 0x2a }, { "tab", 0x2b },
    { "spc", 0x2c }, { "minus", 0x2d }, { "equal", 0x2e }, { "bracket_left", 0x2f },
    { "bracket_right", 0x30 }, { "backslash", 0x31 }, { "semicolon", 0x33 },
    { "apostrophe", 0x34 }, { "grave_accent", 0x35 }, { "comma", 0x36 }, { "dot", 0x37 },
    { "slash", 0x38 }, { "caps_lock", 0x39 }, { "print", 0x46 }, { "sysrq", 0x46 },
    { "scroll_lock", 0x47 }, { "pause", 0x48 }, { "insert", 0x49 }, { "home", 0x4a },
    { "pgup", 0x4b }, { "delete", 0x4c }, { "end", 0x4d }, { "pgdn", 0x4e },
    { "right", 0x4f }, { "left", 0x50 }, { "down", 0x51 }, { "up", 0x52 },
    { "num_lock", 0x53 }, { "kp_divide", 0x54 }, { "kp_multiply", 0x55 },
    { "asterisk", 0x55 }, { "kp_subtract", 0x56 }, { "kp_add", 0x57 }, { "kp_enter", 0x58 },
    { "kp_decimal", 0x63 }, { "less", 0x64 }, { "menu", 0x65 },
    { "ctrl", 0xe0 }, { "shift", 0xe1 }, { "alt", 0xe2 }, { "meta_l", 0xe3 },
    { "ctrl_r", 0xe4 }, { "shift_r", 0xe5 }, { "alt_r", 0xe6 }, { "altgr", 0xe6 },
    { "meta_r", 0xe7 },
};

int key_usage(const char *name, size_t len)
{
    if (len == 1 && name[0] >= 'a' && name[0] <= 'z')
        return 0x04 + (name[0] - 'a');
    if (len == 1 && name[0] >= '1' && name[0] <= '9')
        return 0x1e + (name[0] - '1');
    if (len == 1 && name[0] == '0')
        return 0x27;
    /* f1-f12 and kp_0-kp_9 are numbered runs. */
    if ((len == 2 || len == 3) && name[0] == 'f' && name[1] >= '1' && name[1] <= '9') {
        int n = name[1] - '0';
        if (len == 3) {
            if (name[2] < '0' || name[2] > '9')
                return -1;
            n = n * 10 + (name[2] - '0');
        }
        return n >= 1 && n <= 12 ? 0x3a + n - 1 : -1;
    }
    if (len == 4 && !strncmp(name, "kp_", 3) && name[3] >= '0' && name[3] <= '9')
        return name[3] == '0' ? 0x62 : 0x59 + (name[3] - '1');
    for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
        if (strlen(key_names[i].name) == len && !strncmp(key_names[i].name, name, len))
            return key_names[i].usage;
    return -1;
}
