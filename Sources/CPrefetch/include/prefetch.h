#ifndef SLEDGER_PREFETCH_H
#define SLEDGER_PREFETCH_H

/// Asks the CPU to bring the cache line holding `address` in ahead of a write to it. A hint
/// only: any address may be given, a wrong one costs a little bandwidth and nothing else.
static inline void sledger_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
