/// A table from the ledger's interned numbers (sessions, users: 1, 2, 3 ...) to an `Int32`,
/// in pages of 4,096 entries made only where numbers fall.
///
/// A fold of the whole log meets nearly every number, and then this is an array with one
/// more step per lookup. A narrow fold (one user's events: `user U`, `sessions --user U`) or a
/// fold resumed from a checkpoint meets few numbers, spread up to the ledger's last one
/// (5.7 million sessions at 100M events): a flat array would be filled up to the largest,
/// 23 MB written, faulted in and unmapped again for a few dozen sessions.
struct NumberTable {
    private static let pageBits = 12
    private static let pageMask = (1 << pageBits) - 1

    /// What a number not set reads as.
    let missing: Int32
    /// Empty: no number of that page was set.
    private var pages: [[Int32]] = []

    init(missing: Int32) {
        self.missing = missing
    }

    subscript(number: Int) -> Int32 {
        @inline(__always) get {
            let p = number >> Self.pageBits
            guard p < pages.count, !pages[p].isEmpty else { return missing }
            return pages[p][number & Self.pageMask]
        }
        set {
            let p = number >> Self.pageBits
            if p >= pages.count { pages.append(contentsOf: repeatElement([], count: p + 1 - pages.count)) }
            if pages[p].isEmpty { pages[p] = [Int32](repeating: missing, count: Self.pageMask + 1) }
            pages[p][number & Self.pageMask] = newValue
        }
    }
}
