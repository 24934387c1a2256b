/* ctl_int.h: the control's state as ctl.c (socket thread, jobs), ctl_json.c (requests, stats) and
 * metrics.c (HTTP) share it. */
#ifndef NGT_CTL_INT_H
#define NGT_CTL_INT_H

#include "ngt_zmq.h"
#include "strbuf.h"
#include "zap.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

enum { CTL_JOBS = 32, CTL_PATH = 1024, CTL_MSG = 512 };

typedef enum ctl_job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED } ctl_job_state;

typedef struct ctl_job {
    int id;
    char cmd[16];
    char model[NGT_NAME_MAX];
    char file[CTL_PATH];
    char backend[32];
    char options[CTL_PATH];
    char inputs[CTL_PATH];
    char outputs[CTL_PATH];
    double tol;
    ctl_job_state state;
    int main_thread; /* done by the Lua main thread (reload) */
    uint64_t started_ns, ended_ns;
    long long result; /* swap: the new serial */
    char msg[CTL_MSG];
} ctl_job;

struct ngt_ctl {
    void *zctx, *sock;
    zap_handler *zap;
    pthread_t thread;
    int has_thread;
    atomic_int stop;
    atomic_int state;
    char endpoint[256];
    uint64_t t0;
    pthread_mutex_t mu; /* everything below */
    ngt_menu *menu;
    ngt_stats *stats;
    char path[CTL_PATH];
    ngt_totals retired; /* totals of menus reloaded away */
    int reloads;
    ctl_job jobs[CTL_JOBS]; /* job id k at jobs[k % CTL_JOBS] */
    int n_jobs;
    int busy;        /* id of the job running or queued (one at a time), 0 when none */
    int thread_live; /* job_thread started and not joined */
    pthread_t job_thread;
    uint64_t requests, bad_requests;
    ngt_ctl_npy_read_fn npy_read; /* validation files (NULL: refused) */
    ngt_ctl_npy_free_fn npy_free;
};

/* A JSON string (quoted, escaped) appended to b. */
void ctl_str(strbuf *b, const char *str);

/* A flat JSON object: up to CTL_KEYS string/number/bool members (values as text). */
enum { CTL_KEYS = 16 };
typedef struct ctl_req {
    int n;
    char key[CTL_KEYS][32];
    char val[CTL_KEYS][CTL_PATH];
    int is_str[CTL_KEYS];
} ctl_req;
int ctl_parse(const char *text, size_t len, ctl_req *r, char *why, size_t why_size);
const char *ctl_get(const ctl_req *r, const char *key); /* NULL when absent */

/* Under c->mu: stats as JSON / Prometheus text. */
void ctl_stats_locked(ngt_ctl *c, strbuf *s);
void ctl_metrics_locked(ngt_ctl *c, strbuf *s);
const char *ctl_state_name(int state);

#endif
