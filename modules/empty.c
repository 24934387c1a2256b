/* empty.c: keeps an object library valid while a module has no sources. */
typedef int ngt_empty_translation_unit;
