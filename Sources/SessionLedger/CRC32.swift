import CCRC32

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320): the per-record checksum.
///
/// The same function as zlib's `crc32`, so a Python script can verify records with
/// `zlib.crc32`. A checksum, not a hash: the hash chain (SHA-256) is what resists tampering.
/// Every query verifies every record it reads, and `who` a checkpoint's stretch of megabytes:
/// from 64 bytes on, where the CPU has carry-less multiplies, the bulk is folded 64 bytes at a
/// time (`sledger_crc32_pclmul`, C), the rest by slicing-by-8 (eight tables, eight bytes a step).
enum CRC32 {
    static let pclmul = sledger_crc32_pclmul_available() != 0

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard pclmul, bytes.count >= 64, let base = bytes.baseAddress else { return bySlicing(bytes) }
        let folded = bytes.count & ~15
        let crc = sledger_crc32_pclmul(0xFFFF_FFFF, base.assumingMemoryBound(to: UInt8.self), folded)
        return bySlicing(UnsafeRawBufferPointer(rebasing: bytes[folded...]), from: crc)
    }

    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[n] = c
        }
        for n in 0..<256 {
            for k in 1..<8 { t[k * 256 + n] = (t[(k - 1) * 256 + n] >> 8) ^ t[Int(t[(k - 1) * 256 + n] & 0xFF)] }
        }
        return t
    }()

    /// The table-driven CRC, continuing from the register `crc` (0xFFFFFFFF at the start).
    static func bySlicing(_ bytes: UnsafeRawBufferPointer, from register: UInt32 = 0xFFFF_FFFF) -> UInt32 {
        var crc = register
        tables.withUnsafeBufferPointer { t in
            var i = 0
            let n = bytes.count
            while i + 8 <= n {
                let lo = bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian ^ crc
                let hi = bytes.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self).littleEndian
                crc = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                crc = t[Int((crc ^ UInt32(bytes[i])) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
