#ifndef SLEDGER_CLMDB_SHIM_H
#define SLEDGER_CLMDB_SHIM_H
#include <lmdb.h>
#endif
