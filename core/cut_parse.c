/* cut_parse.c: lexer and recursive-descent parser of the cut language (grammar in docs/cuts.md),
 * turning the source text into a syntax tree whose nodes remember their column. */
#include "cut_int.h"
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cut_token {
    int kind;
    int pos, len;
    double num;
    int is_int;
} cut_token;

typedef struct parser {
    const char *src;
    cut_token tok; /* lookahead */
    cut_ast *ast;
    int depth;
    ngt_error *err;
} parser;

static const char *tok_names[] = {"end of expression",
                                  "number",
                                  "name",
                                  "'('",
                                  "')'",
                                  "'['",
                                  "']'",
                                  "','",
                                  "':'",
                                  "'.'",
                                  "'+'",
                                  "'-'",
                                  "'*'",
                                  "'/'",
                                  "'**'",
                                  "'<'",
                                  "'<='",
                                  "'>'",
                                  "'>='",
                                  "'=='",
                                  "'!='",
                                  "'and'",
                                  "'or'",
                                  "'not'",
                                  "'true'",
                                  "'false'"};

const char *cut_tok_text(int tok)
{
    return tok_names[tok];
}

static int lex_error(parser *p, int pos, const char *what)
{
    return seterr(p->err, NGT_EINVAL, "col %d: %s", pos + 1, what);
}

static int lex_number(parser *p, int pos)
{
    const char *s = p->src + pos;
    int i = 0, is_int = 1;
    while (isdigit((unsigned char)s[i]))
        i++;
    if (s[i] == '.') {
        is_int = 0;
        i++;
        while (isdigit((unsigned char)s[i]))
            i++;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        int j = i + 1;
        if (s[j] == '+' || s[j] == '-')
            j++;
        if (!isdigit((unsigned char)s[j]))
            return lex_error(p, pos + i, "malformed number: the exponent needs digits");
        while (isdigit((unsigned char)s[j]))
            j++;
        is_int = 0;
        i = j;
    }
    if (isalpha((unsigned char)s[i]) || s[i] == '_')
        return lex_error(p, pos + i, "malformed number: a letter follows the digits");
    char buf[64];
    if (i >= (int)sizeof buf)
        return lex_error(p, pos, "number too long");
    memcpy(buf, s, (size_t)i);
    buf[i] = 0;
    p->tok = (cut_token){T_NUM, pos, i, strtod(buf, NULL), is_int};
    return NGT_OK;
}

static int is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.';
}

static int lex_name(parser *p, int pos)
{
    static const struct {
        const char *word;
        int kind;
    } words[] = {
        {"and", T_AND}, {"or", T_OR}, {"not", T_NOT}, {"true", T_TRUE}, {"false", T_FALSE}};
    const char *s = p->src + pos;
    int i = 0;
    while (is_name_char(s[i]))
        i++;
    p->tok = (cut_token){T_IDENT, pos, i, 0, 0};
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++)
        if ((int)strlen(words[w].word) == i && strncmp(s, words[w].word, (size_t)i) == 0)
            p->tok.kind = words[w].kind;
    return NGT_OK;
}

/* Two-character operators first, then one-character ones. */
static int lex_op(parser *p, int pos)
{
    static const struct {
        const char *text;
        int kind;
    } ops[] = {{"**", T_POW},  {"<=", T_LE}, {">=", T_GE},  {"==", T_EQ},   {"!=", T_NE},
               {"(", T_LP},    {")", T_RP},  {"[", T_LB},   {"]", T_RB},    {",", T_COMMA},
               {":", T_COLON}, {".", T_DOT}, {"+", T_PLUS}, {"-", T_MINUS}, {"*", T_STAR},
               {"/", T_SLASH}, {"<", T_LT},  {">", T_GT}};
    const char *s = p->src + pos;
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        size_t n = strlen(ops[o].text);
        if (strncmp(s, ops[o].text, n) == 0) {
            p->tok = (cut_token){ops[o].kind, pos, (int)n, 0, 0};
            return NGT_OK;
        }
    }
    if (s[0] == '=')
        return lex_error(p, pos, "'=' is not an operator: write '==' to compare");
    if (s[0] == '&' || s[0] == '|' || s[0] == '!')
        return seterr(p->err, NGT_EINVAL, "col %d: '%c' is not an operator: write %s", pos + 1,
                      s[0],
                      s[0] == '&'   ? "'and'"
                      : s[0] == '|' ? "'or'"
                                    : "'not'");
    if (isprint((unsigned char)s[0]))
        return seterr(p->err, NGT_EINVAL, "col %d: unexpected character '%c'", pos + 1, s[0]);
    return seterr(p->err, NGT_EINVAL, "col %d: unexpected byte 0x%02x", pos + 1,
                  (unsigned char)s[0]);
}

/* Reads the token after the current one into p->tok. */
static int next(parser *p)
{
    int pos = p->tok.pos + p->tok.len;
    while (isspace((unsigned char)p->src[pos]))
        pos++;
    char c = p->src[pos];
    if (c == 0) {
        p->tok = (cut_token){T_END, pos, 0, 0, 0};
        return NGT_OK;
    }
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)p->src[pos + 1])))
        return lex_number(p, pos);
    if (isalpha((unsigned char)c) || c == '_')
        return lex_name(p, pos);
    return lex_op(p, pos);
}

static int new_node(parser *p, cut_kind kind, int pos)
{
    cut_ast *a = p->ast;
    if (a->n == a->cap) {
        int cap = a->cap ? 2 * a->cap : 32;
        cut_node *nodes = realloc(a->nodes, (size_t)cap * sizeof *nodes);
        if (!nodes)
            return seterr(p->err, NGT_ENOMEM, "out of memory parsing a cut");
        a->nodes = nodes;
        a->cap = cap;
    }
    cut_node *n = &a->nodes[a->n];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->pos = pos;
    n->coll = -1;
    n->col = -1;
    n->args[0] = n->args[1] = n->args[2] = n->args[3] = -1;
    return a->n++;
}

static int unexpected(parser *p, const char *wanted)
{
    if (p->tok.kind == T_END)
        return seterr(p->err, NGT_EINVAL, "col %d: expression ends early: expected %s",
                      p->tok.pos + 1, wanted);
    return seterr(p->err, NGT_EINVAL, "col %d: expected %s, found '%.*s'", p->tok.pos + 1, wanted,
                  p->tok.len, p->src + p->tok.pos);
}

static int expect(parser *p, int kind, const char *wanted)
{
    if (p->tok.kind != kind)
        return unexpected(p, wanted);
    return next(p);
}

static int parse_or(parser *p);
static int parse_unary(parser *p);

/* Binary node op(l, r) at the position of its left operand. */
static int binary(parser *p, int op, int l, int r)
{
    int n = new_node(p, N_BINARY, p->ast->nodes[l].pos);
    if (n < 0)
        return n;
    cut_node *nd = &p->ast->nodes[n];
    nd->op = op;
    nd->nargs = 2;
    nd->args[0] = l;
    nd->args[1] = r;
    return n;
}

static int parse_call(parser *p, int n)
{
    int rc = next(p); /* '(' */
    if (rc < 0)
        return rc;
    if (p->tok.kind == T_RP)
        return next(p);
    for (;;) {
        if (p->ast->nodes[n].nargs == CUT_MAX_ARGS)
            return seterr(p->err, NGT_EINVAL, "col %d: too many arguments to '%s'", p->tok.pos + 1,
                          p->ast->nodes[n].name);
        int a = parse_or(p);
        if (a < 0)
            return a;
        cut_node *nd = &p->ast->nodes[n];
        nd->args[nd->nargs++] = a;
        if (p->tok.kind == T_RP)
            return next(p);
        if ((rc = expect(p, T_COMMA, "',' or ')'")) < 0)
            return rc;
    }
}

static int parse_name(parser *p)
{
    int n = new_node(p, N_NAME, p->tok.pos);
    if (n < 0)
        return n;
    if (p->tok.len >= NGT_NAME_MAX)
        return seterr(p->err, NGT_EINVAL, "col %d: name longer than %d characters", p->tok.pos + 1,
                      NGT_NAME_MAX - 1);
    cut_node *nd = &p->ast->nodes[n];
    memcpy(nd->name, p->src + p->tok.pos, (size_t)p->tok.len);
    nd->name[p->tok.len] = 0;
    int rc = next(p);
    if (rc < 0)
        return rc;
    if (p->tok.kind != T_LP)
        return n;
    p->ast->nodes[n].kind = N_CALL;
    rc = parse_call(p, n);
    return rc < 0 ? rc : n;
}

static int parse_primary(parser *p)
{
    int kind = p->tok.kind, pos = p->tok.pos, n, rc;
    switch (kind) {
    case T_NUM:
    case T_TRUE:
    case T_FALSE:
        if ((n = new_node(p, kind == T_NUM ? N_NUM : N_BOOL, pos)) < 0)
            return n;
        p->ast->nodes[n].num = kind == T_NUM ? p->tok.num : kind == T_TRUE;
        p->ast->nodes[n].is_int = p->tok.is_int;
        rc = next(p);
        return rc < 0 ? rc : n;
    case T_IDENT:
        return parse_name(p);
    case T_LP:
        if ((rc = next(p)) < 0 || (n = parse_or(p)) < 0)
            return rc < 0 ? rc : n;
        rc = expect(p, T_RP, "')'");
        return rc < 0 ? rc : n;
    default:
        return unexpected(p, "a number, a name or '('");
    }
}

/* x[k], x[a:b], x[:b], x[a:] */
static int parse_subscript(parser *p, int base)
{
    int n = new_node(p, N_INDEX, p->ast->nodes[base].pos), lo = -1, hi = -1, rc;
    if (n < 0 || (rc = next(p)) < 0)
        return n < 0 ? n : rc;
    if (p->tok.kind != T_COLON && (lo = parse_or(p)) < 0)
        return lo;
    cut_kind kind = N_INDEX;
    if (p->tok.kind == T_COLON) {
        kind = N_SLICE;
        if ((rc = next(p)) < 0)
            return rc;
        if (p->tok.kind != T_RB && (hi = parse_or(p)) < 0)
            return hi;
    }
    if ((rc = expect(p, T_RB, kind == N_SLICE ? "']'" : "':' or ']'")) < 0)
        return rc;
    cut_node *nd = &p->ast->nodes[n];
    nd->kind = kind;
    nd->nargs = 3;
    nd->args[0] = base;
    nd->args[1] = lo;
    nd->args[2] = hi;
    return n;
}

static int parse_postfix(parser *p)
{
    int n = parse_primary(p), rc;
    while (n >= 0 && (p->tok.kind == T_LB || p->tok.kind == T_DOT)) {
        if (p->tok.kind == T_LB) {
            n = parse_subscript(p, n);
            continue;
        }
        int f = new_node(p, N_FIELD, p->tok.pos);
        if (f < 0 || (rc = next(p)) < 0)
            return f < 0 ? f : rc;
        if (p->tok.kind != T_IDENT || p->tok.len >= NGT_NAME_MAX)
            return unexpected(p, "a field name after '.'");
        cut_node *nd = &p->ast->nodes[f];
        memcpy(nd->name, p->src + p->tok.pos, (size_t)p->tok.len);
        nd->name[p->tok.len] = 0;
        nd->nargs = 1;
        nd->args[0] = n;
        n = f;
        if ((rc = next(p)) < 0)
            return rc;
    }
    return n;
}

/* power := postfix ['**' unary]   (right-associative; -x**2 is -(x**2)) */
static int parse_power(parser *p)
{
    int l = parse_postfix(p), r, rc;
    if (l < 0 || p->tok.kind != T_POW)
        return l;
    if ((rc = next(p)) < 0 || (r = parse_unary(p)) < 0)
        return rc < 0 ? rc : r;
    return binary(p, T_POW, l, r);
}

static int enter(parser *p)
{
    if (++p->depth > CUT_MAX_DEPTH)
        return seterr(p->err, NGT_EINVAL, "col %d: expression nested more than %d deep",
                      p->tok.pos + 1, CUT_MAX_DEPTH);
    return NGT_OK;
}

/* Operator levels from loosest to tightest; 'not' sits between 'and' and the comparisons. */
static const int levels[][7] = {
    {T_OR, 0},
    {T_AND, 0},
    {T_LT, T_LE, T_GT, T_GE, T_EQ, T_NE, 0},
    {T_PLUS, T_MINUS, 0},
    {T_STAR, T_SLASH, 0},
};
enum { N_LEVELS = 5, LEVEL_CMP = 2 };

/* A prefix operator: op operand. */
static int prefix(parser *p, int (*operand)(parser *))
{
    int op = p->tok.kind, pos = p->tok.pos, n, a, rc;
    if ((rc = enter(p)) < 0 || (rc = next(p)) < 0 || (a = operand(p)) < 0)
        return rc < 0 ? rc : a;
    p->depth--;
    if ((n = new_node(p, N_UNARY, pos)) < 0)
        return n;
    p->ast->nodes[n].op = op;
    p->ast->nodes[n].nargs = 1;
    p->ast->nodes[n].args[0] = a;
    return n;
}

/* unary := '-' unary | power */
static int parse_unary(parser *p)
{
    if (p->tok.kind != T_MINUS)
        return parse_power(p);
    return prefix(p, parse_unary);
}

static int parse_binary_level(parser *p, int level);

/* not := 'not' not | comparison   (looser than comparisons: not a < b is not (a < b)) */
static int parse_not(parser *p)
{
    if (p->tok.kind != T_NOT)
        return parse_binary_level(p, LEVEL_CMP);
    return prefix(p, parse_not);
}

static int in_level(int level, int tok)
{
    for (int i = 0; levels[level][i]; i++)
        if (levels[level][i] == tok)
            return 1;
    return 0;
}

static int parse_operand(parser *p, int level)
{
    if (level + 1 == LEVEL_CMP)
        return parse_not(p);
    if (level + 1 < N_LEVELS)
        return parse_binary_level(p, level + 1);
    return parse_unary(p);
}

static int parse_binary_level(parser *p, int level)
{
    int l, r, rc;
    if ((rc = enter(p)) < 0 || (l = parse_operand(p, level)) < 0)
        return rc < 0 ? rc : l;
    while (in_level(level, p->tok.kind)) {
        int op = p->tok.kind, pos = p->tok.pos;
        if ((rc = next(p)) < 0 || (r = parse_operand(p, level)) < 0)
            return rc < 0 ? rc : r;
        if ((l = binary(p, op, l, r)) < 0)
            return l;
        if (level == LEVEL_CMP && in_level(level, p->tok.kind))
            return seterr(p->err, NGT_EINVAL,
                          "col %d: comparisons cannot be chained (after the one at col %d): "
                          "join them with 'and'",
                          p->tok.pos + 1, pos + 1);
    }
    p->depth--;
    return l;
}

static int parse_or(parser *p)
{
    return parse_binary_level(p, 0);
}

int cut_parse(const char *src, cut_ast *ast, ngt_error *err)
{
    memset(ast, 0, sizeof *ast);
    parser p = {src, {T_END, 0, 0, 0, 0}, ast, 0, err};
    int rc = next(&p);
    if (rc < 0)
        return rc;
    if (p.tok.kind == T_END)
        return seterr(err, NGT_EINVAL, "col %d: empty expression", p.tok.pos + 1);
    int root = parse_or(&p);
    if (root < 0)
        return root;
    if (p.tok.kind != T_END)
        return unexpected(&p, "an operator or the end of the expression");
    ast->root = root;
    return NGT_OK;
}

void cut_ast_free(cut_ast *ast)
{
    free(ast->nodes);
    memset(ast, 0, sizeof *ast);
}
