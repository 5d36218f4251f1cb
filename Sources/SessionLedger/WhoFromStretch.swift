import LMDB

/// `who` answered from a checkpoint's stretch (`CheckpointStretch`) instead of a fold: the
/// stretch's entries are counted in place, by user number, and only the users counted are
/// named. The answer is the one a fold gives (docs/FORMAT.md, "Checkpoints").
extension LedgerSnapshot {
    /// The users with at least one session (of `client`, if given) active at `t`, with how
    /// many, sorted by user; nil when no usable stretch holds `t` (the caller then folds).
    public func whoFromStretch(policy: Policy, at t: Instant, client: String?) throws -> [SessionQuery.UserCount]? {
        let t = t.nanoseconds
        return try whoFromStretch(policy: policy, first: t, last: t, client: client) { loginAt, until in loginAt <= t && t < until }
    }

    /// The same for the sessions active at some instant of `[from, to)`, as of the range's
    /// last instant (`SessionState.wasActive`).
    public func whoFromStretch(policy: Policy, from: Instant, to: Instant, client: String?) throws -> [SessionQuery.UserCount]? {
        guard from < to else { return [] }
        let (from, to) = (from.nanoseconds, to.nanoseconds)
        return try whoFromStretch(policy: policy, first: from, last: to - 1, client: client) { loginAt, until in
            loginAt < to && loginAt < until && from < until
        }
    }

    /// Reads the first checkpoint at or after `last` and, when it is usable (version 3, this
    /// policy's, consistent with the head, its stretch intact and begun by `first`), counts the
    /// entries `isActive(loginAt, until)` selects.
    private func whoFromStretch(policy: Policy, first: Int64, last: Int64, client: String?,
                                isActive: (Int64, Int64) -> Bool) throws -> [SessionQuery.UserCount]? {
        let head = try eventCount()
        let digest = Checkpoint.digest(of: policy)
        let userCount = try userCount()
        // How many sessions each user number has, counted in place.
        let counts: [UInt32]? = try txn.withCursor(db.checkpoints) { cursor in
            guard let stored = try cursor.seek(atLeast: Checkpoint.key(Instant(nanoseconds: last))) else { return nil }
            let value = stored.value
            guard value.count >= 68, value[0] >= 3, value[0] <= Checkpoint.version,
                  readLE(value, 4, 8) == UInt64(bitPattern: Instant(biased: readBE(stored.key, 0, 8)).nanoseconds),
                  readLE(value, 12, 8) <= head, readLE(value, 20, 8) <= head, value[28..<60].elementsEqual(digest) else { return nil }
            let length = Int(readLE(value, 60, 4))
            guard length > 0, let stretch = CheckpointStretch.View(value, start: 64, end: 64 + length),
                  stretch.from.nanoseconds <= first else { return nil }
            let wanted = stretch.clients.map { client == nil || $0 == client }
            var counts = [UInt32](repeating: 0, count: userCount + 1)
            for k in 0..<stretch.count {
                let e = stretch.entry(k)
                guard e.user <= userCount else { return nil }  // not a number `users` gave: fold instead
                if wanted[Int(e.client)], isActive(e.loginAt, e.until) { counts[Int(e.user)] += 1 }
            }
            return counts
        }
        guard let counts else { return nil }
        let numbers = counts.indices.filter { counts[$0] > 0 }.map { UInt32($0) }
        let names = try userNames(numbers)
        return sortedByUTF8(zip(names, numbers).map { SessionQuery.UserCount(user: $0, sessions: Int(counts[Int($1)])) }, \.user)
    }

    /// The names of user numbers given in ascending order: one walk over `user_names` when
    /// they are a good share of all users, else one lookup each.
    func userNames(_ numbers: [UInt32]) throws -> [String] {
        guard let firstNumber = numbers.first else { return [] }
        if numbers.count * 8 < (try userCount()) {
            return try numbers.map { number in
                do { return try self.names.user(number, txn, db.userNames) } catch let damage as Record.Damage {
                    throw LedgerError.damaged(seq: nil, problem: damage.problem)
                }
            }
        }
        var out: [String] = []
        out.reserveCapacity(numbers.count)
        try txn.withCursor(db.userNames) { cursor in
            try cursor.forEach(from: cursor.seek(atLeast: withUnsafeBytes(of: firstNumber.bigEndian) { Array($0) })) { entry in
                let number = UInt32(readBE(entry.key, 0, 4))
                guard number >= numbers[out.count] else { return true }
                guard number == numbers[out.count] else { return false }
                guard let name = NameEntry.name(number, entry.value) else {
                    throw LedgerError.damaged(seq: nil, problem: "the name of user number \(number) in user_names is damaged (checksum mismatch)")
                }
                out.append(String(decoding: name, as: UTF8.self))
                return out.count < numbers.count
            }
        }
        guard out.count == numbers.count else {
            throw LedgerError.damaged(seq: nil, problem: "user number \(numbers[out.count]) has no name in user_names")
        }
        return out
    }
}
