/* fuzz_wire.c: libFuzzer target over the wire decoder (input and output messages): any frames must
 * be refused with a message or parse into something whose every copy stays inside its frames and
 * whose collection counts the core's check has passed or refused. Input bytes: byte 0 bit 0 picks
 * the output layout; then frames as [u16 little-endian length][bytes], at most 16. */
#include "../wire/wire_menu.h"
#include "wire.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { CAP = 64 };
static ngt_schema *schema;
static ngt_registry *reg;
static ngt_menu *menu;
static wire_layout lin, lout;
static ngt_batch *batch;

static void setup(void)
{
    ngt_error err;
    menu = wm_menu(&schema, &reg);
    if (wire_layout_init(&lin, schema, 0, &err) ||
        wire_layout_init(&lout, ngt_menu_schema(menu), 1, &err))
        abort();
    lin.max_events = lout.max_events = CAP;
    batch = ngt_batch_new(ngt_menu_schema(menu), CAP, &err);
    if (!batch)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!menu)
        setup();
    if (size < 1)
        return 0;
    const wire_layout *l = data[0] & 1 ? &lout : &lin;
    const void *frames[16];
    size_t sizes[16];
    int n = 0;
    size_t at = 1;
    while (n < 16 && at + 2 <= size) {
        size_t len = data[at] | (size_t)data[at + 1] << 8;
        at += 2;
        if (len > size - at)
            len = size - at;
        /* each frame in its own allocation, so a read past it is caught */
        uint8_t *f = malloc(len ? len : 1);
        memcpy(f, data + at, len);
        frames[n] = f;
        sizes[n++] = len;
        at += len;
    }
    ngt_error err = {0};
    wire_msg m;
    int rc = wire_parse(l, n, frames, sizes, &m, &err);
    if (rc != NGT_OK) {
        if (rc >= 0 || err.msg[0] == 0)
            abort(); /* a refusal must say why */
    } else {
        if (m.count > CAP)
            abort();
        uint8_t bad[CAP];
        int half = (int)m.count / 2;
        int b1 = wire_copy_in(l, &m, 0, half, batch, 0, bad, &err);
        int b2 = wire_copy_in(l, &m, half, (int)m.count - half, batch, half, bad, &err);
        if (b1 < 0 || b2 < 0)
            abort();
    }
    for (int i = 0; i < n; i++)
        free((void *)frames[i]);
    return 0;
}
