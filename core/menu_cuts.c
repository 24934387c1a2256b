/* menu_cuts.c: a menu's cuts compiled together (cut_gen.c): every cut step that reads only input
 * columns becomes a row of one generated function, run once per batch over all its events the
 * first time a chain needs a cut; the chains then read their rows (exec.c). Cuts reading derived
 * columns, and every cut when compiling is off or impossible, run in the block interpreter. */
#include "cut_int.h"
#include "internal.h"
#include "menu_int.h"

#include <stdlib.h>
#include <string.h>

int ngt_menu_set_cuts(ngt_menu *m, ngt_cuts_mode mode, ngt_error *err)
{
    if (!m)
        return seterr(err, NGT_EINVAL, "no menu");
    if (m->built)
        return seterr(err, NGT_ESTATE, "the menu is already built");
    if (mode != NGT_CUTS_AUTO && mode != NGT_CUTS_COMPILED && mode != NGT_CUTS_INTERP)
        return seterr(err, NGT_EINVAL, "unknown cuts mode %d", (int)mode);
    m->cuts_mode = mode;
    return NGT_OK;
}

int ngt_menu_compiled_cuts(const ngt_menu *m)
{
    return m ? m->n_compiled : 0;
}

/* The mode: NGT_CUTS from the environment when set, else the menu's. */
static int effective_mode(const ngt_menu *m, ngt_error *err)
{
    const char *env = getenv("NGT_CUTS");
    if (!env || !*env)
        return m->cuts_mode;
    if (!strcmp(env, "auto"))
        return NGT_CUTS_AUTO;
    if (!strcmp(env, "compiled"))
        return NGT_CUTS_COMPILED;
    if (!strcmp(env, "interp"))
        return NGT_CUTS_INTERP;
    return seterr(err, NGT_EINVAL, "NGT_CUTS='%.40s': expected auto, compiled or interp", env);
}

static int reads_input_only(const ngt_menu *m, const step *s)
{
    for (int k = 0; k < s->n_reads; k++)
        if (ngt_schema_column(m->schema, s->reads[k])->derived)
            return 0;
    return 1;
}

int menu_compile_cuts(ngt_menu *m, ngt_error *err)
{
    int mode = effective_mode(m, err);
    if (mode < 0)
        return mode;
    if (mode == NGT_CUTS_INTERP)
        return NGT_OK;
    int n = 0;
    const cut_program **cuts = calloc((size_t)m->n_steps + 1, sizeof(void *)); /* pointers */
    int *steps = malloc(((size_t)m->n_steps + 1) * sizeof *steps);
    if (!cuts || !steps) {
        free(cuts);
        free(steps);
        return seterr(err, NGT_ENOMEM, "out of memory");
    }
    for (int i = 0; i < m->n_steps; i++)
        if (m->steps[i].kind == STEP_CUT && reads_input_only(m, &m->steps[i])) {
            steps[n] = i;
            cuts[n++] = m->steps[i].cut;
        }
    int rc = NGT_OK;
    if (n > 0) {
        ngt_error cerr = {0};
        m->cutc = cutc_build(m->schema, cuts, n, &cerr);
        if (m->cutc) {
            m->cut_rows = cutc_rows(m->cutc);
            m->n_compiled = n;
            for (int k = 0; k < n; k++)
                m->steps[steps[k]].cut_row = cutc_row(m->cutc, k);
        } else if (mode == NGT_CUTS_COMPILED) {
            rc = seterr(err, cerr.code ? cerr.code : NGT_EIO, "compiled cuts requested: %s",
                        cerr.msg);
        }
    }
    free(cuts);
    free(steps);
    return rc;
}

void menu_free_cuts(ngt_menu *m)
{
    cutc_free(m->cutc);
    m->cutc = NULL;
}
