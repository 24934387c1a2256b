/* alloc_wrap.h: the malloc family of the library's code, wrapped at link time (-Wl,--wrap, see
 * ngt_alloc_test in tests/CMakeLists.txt): counts allocations and, in fail-after-N mode, fails
 * the N-th and every later one. Works under ASan (the real allocator is still ASan's). */
#ifndef NGT_ALLOC_WRAP_H
#define NGT_ALLOC_WRAP_H

/* Allocations counted while aw_counting is set. */
extern int aw_counting;
extern long aw_allocations;
/* >= 0: allocation number aw_fail_after (counted from 0 since aw_arm) and later ones fail. */
void aw_arm(long fail_after);
void aw_disarm(void);
/* 1 when an armed allocation failed since aw_arm. */
int aw_failed(void);

#endif
