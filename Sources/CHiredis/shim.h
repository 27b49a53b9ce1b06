#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H

// Debian's libhiredis-dev 0.14.1 installs its headers under /usr/include/hiredis.
#include <hiredis/hiredis.h>

// redisContext.errstr is a fixed char array, which Swift imports as a 128-element tuple;
// returning the pointer keeps the Swift side free of tuple juggling.
static inline const char *chiredis_errstr(const redisContext *c) { return c->errstr; }

// The same for a reader's error text (redisReaderGetError is a macro Swift cannot call).
static inline const char *chiredis_reader_errstr(const redisReader *r) { return r->errstr; }

#endif
