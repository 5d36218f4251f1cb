#ifndef SLEDGER_CRC32_PCLMUL_H
#define SLEDGER_CRC32_PCLMUL_H

#include <stddef.h>
#include <stdint.h>

/// Whether this CPU has the carry-less multiply (PCLMULQDQ) and SSE4.1 instructions that
/// `sledger_crc32_pclmul` needs; always 0 off x86-64.
int sledger_crc32_pclmul_available(void);

/// Folds `len` bytes into `crc`, the running CRC-32 register (IEEE 802.3, reflected: start
/// from 0xFFFFFFFF, invert at the end), and returns the new register. `len` must be at least
/// 64 and a multiple of 16; call only when `sledger_crc32_pclmul_available()`.
uint32_t sledger_crc32_pclmul(uint32_t crc, const unsigned char *buf, size_t len);

#endif
