#if canImport(Glibc)
import Glibc
#endif

/// glibc's `mallopt(M_MMAP_THRESHOLD, …)`: from what size a block gets its own mapping, given
/// back to the system when freed. Swift's Glibc module leaves out `malloc.h`, so the function
/// is looked up by name; elsewhere this does nothing.
enum MallocThreshold {
    /// `M_MMAP_THRESHOLD` in glibc's malloc.h.
    private static let mmapThreshold: Int32 = -3

    /// Maps blocks of `bytes` or more on their own (glibc then stops raising the threshold by itself).
    static func mapBlocks(from bytes: Int32) {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(mmapThreshold, bytes)
        #endif
    }
}
