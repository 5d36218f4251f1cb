import CPrefetch

/// A table from the ledger's session numbers (1, 2, 3 ...) to an `Int32`, in pages of 256
/// entries made only where numbers fall.
///
/// A fold of the whole log meets nearly every number, and then this is an array with one
/// more step per lookup. A narrow fold (one user's events: `user U`, `sessions --user U`) or a
/// fold resumed from a checkpoint meets few numbers, spread up to the ledger's last one
/// (5.7 million sessions at 100M events): a flat array would be filled up to the largest,
/// 23 MB written, faulted in and unmapped again for a few dozen sessions. Pages of 256 keep
/// it small for a few thousand such numbers too (`who` from a checkpoint an hour before the
/// newest event): pages of 4,096 were each met once and made nearly all of those 23 MB.
struct NumberTable {
    private static let pageBits = 8
    private static let pageSize = 1 << pageBits

    /// What a number not set reads as.
    let missing: Int32
    /// The pages made, one after another in the order they were made.
    private var entries: [Int32] = []
    /// Where each page starts in `entries` (-1: not made).
    private var pageStart: [Int] = []

    init(missing: Int32) {
        self.missing = missing
    }

    subscript(number: Int) -> Int32 {
        @inline(__always) get { place(number).map { entries[$0] } ?? missing }
        set {
            let p = number >> Self.pageBits
            if p >= pageStart.count { pageStart.append(contentsOf: repeatElement(-1, count: p + 1 - pageStart.count)) }
            if pageStart[p] < 0 {
                pageStart[p] = entries.count
                entries.append(contentsOf: repeatElement(missing, count: Self.pageSize))
            }
            entries[pageStart[p] + (number & (Self.pageSize - 1))] = newValue
        }
    }

    /// Hints the cache with `number`'s entry, ahead of reading it (`Derivation.prefetch`).
    @inline(__always)
    func prefetch(_ number: Int) {
        guard let place = place(number) else { return }
        entries.withUnsafeBufferPointer { sledger_prefetch($0.baseAddress! + place) }
    }

    /// Where `number`'s entry lies in `entries`; nil when its page was never made.
    @inline(__always)
    private func place(_ number: Int) -> Int? {
        let p = number >> Self.pageBits
        guard p < pageStart.count else { return nil }
        let start = pageStart[p]
        return start < 0 ? nil : start + (number & (Self.pageSize - 1))
    }
}
