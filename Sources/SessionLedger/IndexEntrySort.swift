/// The sorts of a writer's flushes: the entries of `by_user` and `by_session`
/// (`PendingIndexes`) and the id claims of `ids` (`IDClaims`) a call gathered, put in key
/// order before they are filed.
///
/// Each gives exactly the order of `sort { ($0.key, $0.seq) < ($1.key, $1.seq) }` (the hash
/// for claims; no two entries share a `seq`, so that order is unique), by counting instead of
/// comparing: a comparison sort with a closure was 8% of an import's writer thread
/// (docs/PERFORMANCE.md).
enum IndexEntrySort {
    /// Sorts by key, keeping the order of entries with equal keys: a least-significant-digit
    /// radix sort, one or two counting passes. The entries must come in ascending `seq`
    /// (as a call stores them), so that equal keys end in `seq` order.
    static func byKey(_ entries: inout [(key: UInt32, seq: UInt64)]) {
        let count = entries.count
        guard count > 1 else { return }
        var largest: UInt32 = 0
        var ascending = true
        entries.withUnsafeBufferPointer { all in
            var previous = all[0]
            for entry in all {
                assert(entry.seq >= previous.seq, "entries in ascending seq")
                if entry.key < previous.key { ascending = false }
                largest = max(largest, entry.key)
                previous = entry
            }
        }
        if ascending { return }
        // Up to 16 bits a pass; two passes of half the key's width beyond that.
        let width = UInt32.bitWidth - largest.leadingZeroBitCount
        let passes = width <= 16 ? 1 : 2
        let digitBits = (width + passes - 1) / passes
        var scratch = [(key: UInt32, seq: UInt64)](repeating: (0, 0), count: count)
        // Per digit: first how many entries have it, then where the next of them goes.
        var places = [Int](repeating: 0, count: 1 << digitBits)
        let mask = UInt32((1 << digitBits) - 1)
        for pass in 0..<passes {
            let shift = UInt32(pass * digitBits)
            entries.withUnsafeBufferPointer { source in
                scratch.withUnsafeMutableBufferPointer { target in
                    places.withUnsafeMutableBufferPointer { place in
                        for digit in place.indices { place[digit] = 0 }
                        for entry in source { place[Int((entry.key >> shift) & mask)] += 1 }
                        var start = 0
                        for digit in place.indices {
                            let withDigit = place[digit]
                            place[digit] = start
                            start += withDigit
                        }
                        for entry in source {
                            let digit = Int((entry.key >> shift) & mask)
                            target[place[digit]] = entry
                            place[digit] += 1
                        }
                    }
                }
            }
            swap(&entries, &scratch)
        }
    }

    /// Sorts claims by (`hash`, `seq`). The hashes are uniform (SHA-256 bytes), so one
    /// counting pass on their top bits (up to 16) leaves buckets of 4-8 claims (16 at a flush
    /// of 1,048,576), each then sorted by insertion (a bucket past 64, which uniform hashes
    /// all but never make, by `sort`).
    static func byHash(_ claims: inout [(hash: UInt64, seq: UInt64)]) {
        let count = claims.count
        guard count > 1 else { return }
        let bucketBits = min(max(Int.bitWidth - count.leadingZeroBitCount - 3, 1), 16)
        let shift = UInt64(64 - bucketBits)
        var scratch = [(hash: UInt64, seq: UInt64)](repeating: (0, 0), count: count)
        // Bucket b holds `bounds[b]..<bounds[b + 1]` of the sorted claims.
        var bounds = [Int](repeating: 0, count: (1 << bucketBits) + 1)
        claims.withUnsafeBufferPointer { source in
            scratch.withUnsafeMutableBufferPointer { target in
                bounds.withUnsafeMutableBufferPointer { bound in
                    for claim in source { bound[Int(claim.hash >> shift) + 1] += 1 }
                    for index in 1..<bound.count { bound[index] += bound[index - 1] }
                    // `next[b]` is where bucket b's next claim goes.
                    var next = Array(bound.dropLast())
                    next.withUnsafeMutableBufferPointer { next in
                        for claim in source {
                            let bucket = Int(claim.hash >> shift)
                            target[next[bucket]] = claim
                            next[bucket] += 1
                        }
                    }
                    for bucket in 0..<(bound.count - 1) {
                        let lower = bound[bucket], upper = bound[bucket + 1]
                        if upper - lower > 64 {
                            target[lower..<upper].sort { ($0.hash, $0.seq) < ($1.hash, $1.seq) }
                            continue
                        }
                        var i = lower + 1
                        while i < upper {
                            let claim = target[i]
                            var j = i
                            while j > lower, (claim.hash, claim.seq) < (target[j - 1].hash, target[j - 1].seq) {
                                target[j] = target[j - 1]
                                j -= 1
                            }
                            target[j] = claim
                            i += 1
                        }
                    }
                }
            }
        }
        swap(&claims, &scratch)
    }
}
