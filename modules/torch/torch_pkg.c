/* torch_pkg.c: reading AOTInductor packages. A .pt2 is a zip (libzip) whose model NAME lives in
 * PKG/data/aotinductor/NAME/: the model library (*.so, weights inside) or, for a source-only
 * package, its sources (*.cpp, *.o) and flags; *_metadata.json holds the model's metadata. The
 * files are extracted once per package content into the cache, published by an atomic rename. */
#include "ccache.h"
#include "torch/torch_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Reads a JSON string starting at the opening quote; returns the position after the closing
 * quote, or NULL. Escapes \" \\ \/ are decoded; others are kept as written. */
static const char *json_string(const char *s, char *out, size_t n)
{
    if (*s != '"')
        return NULL;
    size_t k = 0;
    for (s++; *s && *s != '"'; s++) {
        char c = *s;
        if (c == '\\' && s[1]) {
            s++;
            c = *s == '"' || *s == '\\' || *s == '/' ? *s : *s == 'n' ? '\n' : *s;
        }
        if (k + 1 < n)
            out[k++] = c;
    }
    out[k] = 0;
    return *s == '"' ? s + 1 : NULL;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
        s++;
    return s;
}

/* The metadata: a flat JSON object of strings. Entries that are not strings are skipped. */
static int parse_meta(const char *json, torch_pkg *p, ngt_error *err)
{
    const char *s = skip_ws(json);
    if (*s++ != '{')
        return seterr(err, NGT_EFORMAT, "metadata is not a JSON object");
    for (;;) {
        s = skip_ws(s);
        if (*s == '}')
            return NGT_OK;
        char key[64], val[256];
        s = json_string(s, key, sizeof key);
        if (!s || *(s = skip_ws(s)) != ':')
            return seterr(err, NGT_EFORMAT, "malformed metadata JSON");
        s = skip_ws(s + 1);
        if (*s == '"') {
            s = json_string(s, val, sizeof val);
            if (!s)
                return seterr(err, NGT_EFORMAT, "malformed metadata JSON");
            if (p->n_meta < TORCH_META_MAX) {
                str_copy(p->meta_key[p->n_meta], key, sizeof p->meta_key[0]);
                str_copy(p->meta_val[p->n_meta], val, sizeof p->meta_val[0]);
                p->n_meta++;
            }
        } else {
            while (*s && *s != ',' && *s != '}')
                s++;
        }
        s = skip_ws(s);
        if (*s == ',')
            s++;
        else if (*s != '}')
            return seterr(err, NGT_EFORMAT, "malformed metadata JSON");
    }
}

const char *torch_pkg_meta(const torch_pkg *p, const char *key)
{
    for (int i = 0; i < p->n_meta; i++)
        if (strcmp(p->meta_key[i], key) == 0)
            return p->meta_val[i];
    return NULL;
}

int torch_json_strings(const char *json, const char *key, const char *prefix, char *out, size_t n)
{
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *s = strstr(json, pat);
    if (!s)
        return 0;
    s = skip_ws(s + strlen(pat));
    if (*s != ':')
        return 0;
    s = skip_ws(s + 1);
    if (*s != '[')
        return 0;
    for (s = skip_ws(s + 1); *s == '"'; s = skip_ws(s)) {
        char v[512];
        s = json_string(s, v, sizeof v);
        if (!s)
            return -1;
        const char *t = v;
        while (*t == ' ')
            t++;
        if (*t) {
            size_t len = strlen(out);
            int w = snprintf(out + len, n - len, " %s%s", prefix, t);
            if (w < 0 || (size_t)w >= n - len)
                return -1;
        }
        s = skip_ws(s);
        if (*s == ',')
            s = skip_ws(s + 1);
    }
    return 0;
}

/* Files of the model directory: the part of the entry's name after PKG/data/aotinductor/NAME/,
 * or NULL when the entry is elsewhere. Names with a further '/' or a leading '.' are refused. */
static const char *model_file(const char *entry, const char *name)
{
    const char *s = strchr(entry, '/');
    if (!s)
        return NULL;
    s++;
    static const char dir[] = "data/aotinductor/";
    if (strncmp(s, dir, sizeof dir - 1) != 0)
        return NULL;
    s += sizeof dir - 1;
    size_t k = strlen(name);
    if (strncmp(s, name, k) != 0 || s[k] != '/')
        return NULL;
    s += k + 1;
    return *s && *s != '.' && !strchr(s, '/') ? s : NULL;
}

static int extract(zip_t *z, zip_uint64_t i, const char *to, ngt_error *err)
{
    zip_file_t *zf = zip_fopen_index(z, i, 0);
    if (!zf)
        return seterr(err, NGT_EFORMAT, "cannot read entry %s: %s", zip_get_name(z, i, 0),
                      zip_strerror(z));
    FILE *f = fopen(to, "wb");
    if (!f) {
        zip_fclose(zf);
        return seterr(err, NGT_EIO, "cannot write %s: %s", to, strerror(errno));
    }
    char buf[65536];
    zip_int64_t r;
    int bad = 0;
    while ((r = zip_fread(zf, buf, sizeof buf)) > 0)
        bad |= fwrite(buf, 1, (size_t)r, f) != (size_t)r;
    bad |= r < 0;
    zip_fclose(zf);
    bad |= fclose(f) != 0;
    return bad ? seterr(err, NGT_EIO, "cannot extract %s into %s", zip_get_name(z, i, 0), to)
               : NGT_OK;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[1400];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, "..") != 0)) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

static char *read_entry(zip_t *z, zip_uint64_t i, ngt_error *err)
{
    zip_stat_t st;
    if (zip_stat_index(z, i, 0, &st) || !(st.valid & ZIP_STAT_SIZE) || st.size > (1u << 20)) {
        seterr(err, NGT_EFORMAT, "entry %s: no size or larger than 1 MiB", zip_get_name(z, i, 0));
        return NULL;
    }
    char *buf = malloc(st.size + 1);
    zip_file_t *zf = buf ? zip_fopen_index(z, i, 0) : NULL;
    zip_int64_t r = zf ? zip_fread(zf, buf, st.size) : -1;
    if (zf)
        zip_fclose(zf);
    if (r != (zip_int64_t)st.size) {
        free(buf);
        seterr(err, NGT_EFORMAT, "cannot read entry %s", zip_get_name(z, i, 0));
        return NULL;
    }
    buf[st.size] = 0;
    return buf;
}

/* Extracts the model's files into a fresh temporary folder, renamed to dir when complete. */
static int extract_all(zip_t *z, const char *name, const char *dir, ngt_error *err)
{
    static atomic_int seq;
    char tmp[1100], to[1400];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld-%d", dir, (long)getpid(), atomic_fetch_add(&seq, 1));
    if (mkdir(tmp, 0755))
        return seterr(err, NGT_EIO, "cannot create %s: %s", tmp, strerror(errno));
    int rc = NGT_OK;
    zip_int64_t n = zip_get_num_entries(z, 0);
    for (zip_int64_t i = 0; i < n && !rc; i++) {
        const char *f = model_file(zip_get_name(z, (zip_uint64_t)i, 0), name);
        if (!f)
            continue;
        snprintf(to, sizeof to, "%s/%s", tmp, f);
        rc = extract(z, (zip_uint64_t)i, to, err);
    }
    if (!rc && rename(tmp, dir) && access(dir, R_OK) != 0)
        rc = seterr(err, NGT_EIO, "cannot publish %s: %s", dir, strerror(errno));
    if (access(tmp, F_OK) == 0)
        remove_dir(tmp); /* failed, or another process published the same files first */
    return rc;
}

int torch_pkg_open(const char *path, const char *name, torch_pkg *p, ngt_error *err)
{
    memset(p, 0, sizeof *p);
    name = name && *name ? name : "model";
    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &zerr);
    if (!z) {
        if (zerr == ZIP_ER_NOZIP || zerr == ZIP_ER_INCONS)
            return seterr(err, NGT_EFORMAT, "not a .pt2 package (not a zip archive)");
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        int code = zerr == ZIP_ER_NOENT || zerr == ZIP_ER_OPEN ? NGT_EIO : NGT_EFORMAT;
        seterr(err, code, "cannot open the package: %s", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return code;
    }
    int rc = NGT_OK, found = 0;
    char *meta = NULL, *flags = NULL;
    zip_int64_t n = zip_get_num_entries(z, 0);
    for (zip_int64_t i = 0; i < n && !rc; i++) {
        const char *entry = zip_get_name(z, (zip_uint64_t)i, 0);
        const char *f = entry ? model_file(entry, name) : NULL;
        if (!f)
            continue;
        found++;
        if (ends_with(f, ".so"))
            str_copy(p->lib, f, sizeof p->lib);
        else if (ends_with(f, ".wrapper_metadata.json") && !meta) {
            if (!(meta = read_entry(z, (zip_uint64_t)i, err)))
                rc = NGT_EFORMAT;
        } else if (ends_with(f, "_compile_flags.json") && !flags) {
            if (!(flags = read_entry(z, (zip_uint64_t)i, err)))
                rc = NGT_EFORMAT;
        } else if (ends_with(f, ".wrapper.cpp") || ends_with(f, ".weights.o")) {
            if (p->n_sources == TORCH_MAX_SOURCES)
                rc = seterr(err, NGT_EUNSUPPORTED, "more than %d source files", TORCH_MAX_SOURCES);
            else
                str_copy(p->sources[p->n_sources++], f, sizeof p->sources[0]);
        }
    }
    if (!rc && !found)
        rc = seterr(err, NGT_EFORMAT,
                    "no model '%s' in the package (no entry */data/aotinductor/%s/)", name, name);
    if (!rc && !p->lib[0] && (!p->n_sources || !flags))
        rc = seterr(err, NGT_EFORMAT,
                    "the package has no model library (*.so) for model '%s', nor is it a "
                    "source-only package (*.wrapper.cpp with *_compile_flags.json)",
                    name);
    if (!rc && !meta)
        rc = seterr(err, NGT_EFORMAT, "the package has no *.wrapper_metadata.json for '%s'", name);
    if (!rc)
        rc = parse_meta(meta, p, err);
    if (!rc && flags)
        str_copy(p->compile_flags, flags, sizeof p->compile_flags);
    if (!rc && flags && strlen(flags) >= sizeof p->compile_flags)
        rc = seterr(err, NGT_EFORMAT, "compile flags longer than %zu bytes",
                    sizeof p->compile_flags - 1);
    free(meta);
    free(flags);
    char cache[900];
    uint64_t h = rc ? 0 : file_hash(path, err);
    if (!rc && !h)
        rc = err ? err->code : NGT_EIO;
    if (!rc)
        rc = cc_cache_dir(cache, sizeof cache, err);
    if (!rc) {
        h = fnv1a(name, strlen(name) + 1, h);
        snprintf(p->dir, sizeof p->dir, "%s/torch-%016llx", cache, (unsigned long long)h);
        if (access(p->dir, R_OK) != 0)
            rc = extract_all(z, name, p->dir, err);
    }
    zip_discard(z);
    if (rc)
        return rc;
    char tmp[2400];
    if (p->lib[0]) {
        snprintf(tmp, sizeof tmp, "%s/%s", p->dir, p->lib);
        if (str_copy(p->lib, tmp, sizeof p->lib) < 0)
            return seterr(err, NGT_EINVAL, "path too long: %s", tmp);
    }
    for (int i = 0; i < p->n_sources; i++) {
        snprintf(tmp, sizeof tmp, "%s/%s", p->dir, p->sources[i]);
        if (str_copy(p->sources[i], tmp, sizeof p->sources[i]) < 0)
            return seterr(err, NGT_EINVAL, "path too long: %s", tmp);
    }
    return NGT_OK;
}
