import Hummingbird
import SessionLedger

struct TimelineRoutes {
    let access: LedgerAccess
    let policy: Policy

    func add(to router: Router<BasicRequestContext>) {}
}
