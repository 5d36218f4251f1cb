#if canImport(Glibc)
import Glibc
#endif

/// glibc's `mallopt` thresholds: from what size a block gets its own mapping, given back to
/// the system when freed, and by how much the heap grows and how much free memory its top
/// keeps. Swift's Glibc module leaves out `malloc.h`, so the function is looked up by name;
/// elsewhere this does nothing.
enum MallocThreshold {
    /// `M_TRIM_THRESHOLD`, `M_TOP_PAD` and `M_MMAP_THRESHOLD` in glibc's malloc.h.
    private static let trimThreshold: Int32 = -1
    private static let topPad: Int32 = -2
    private static let mmapThreshold: Int32 = -3

    /// Maps blocks of `bytes` or more on their own (glibc then stops raising the threshold by itself).
    static func mapBlocks(from bytes: Int32) {
        set(mmapThreshold, bytes)
    }

    /// Grows the heap `bytes` at a time and gives its free top back only past four times that,
    /// instead of 128 KiB: for a process that allocates and frees many small blocks in turn
    /// (decision 0012's buffered writes), which otherwise spends a fifth of its time growing
    /// and shrinking the heap and faulting its pages in again.
    static func growHeap(by bytes: Int32) {
        set(topPad, bytes)
        set(trimThreshold, 4 * bytes)
    }

    private static func set(_ parameter: Int32, _ value: Int32) {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(parameter, value)
        #endif
    }
}
