#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What decide needs to know about one version.
public struct VersionSummary: Codable, Hashable, Sendable {
    public var pageType: PageType
    public var versionNumber: Int
    public var outcome: Outcome?
    public var isCurrent: Bool
}

/// What decide needs to know about one payment, by its Stripe intent.
public struct PaymentSummary: Codable, Hashable, Sendable {
    public var paymentID: UUID
    public var status: PaymentStatus
    public var amount: Int64
    public var contentVersionID: UUID?
}

/// One client's state, folded from its stream. `evolve` never fails: it ignores what does not apply.
public struct ClientState: Codable, Hashable, Sendable {
    public var exists = false
    public var isDeleted = false
    public var clientID: UUID?
    public var name = ""
    public var email: String?
    public var status = ClientStatus.pending
    public var token: Token?
    public var retiredTokens: [Token] = []
    public var versions: [UUID: VersionSummary] = [:]
    public var currentVersionByPage: [PageType: UUID] = [:]
    /// `clients.current_version_id`: the version promoted last, whatever its page.
    public var currentVersionID: UUID?
    public var lastVersionNumber: [PageType: Int] = [:]
    public var payments: [String: PaymentSummary] = [:]

    /// A client that does not exist yet.
    public static let initial = ClientState()

    /// The state after `event`.
    public func evolve(_ event: Event) -> ClientState {
        var state = self
        state.apply(event)
        return state
    }

    /// Folds `events` from the initial state.
    public static func fold(_ events: some Sequence<Event>) -> ClientState {
        events.reduce(into: ClientState.initial) { $0.apply($1) }
    }

    /// Applies `event` in place.
    ///
    /// A failed payment moves an active client to `failed`; a paid client stays paid. A succeeded
    /// payment moves an active or failed client to `paid`.
    public mutating func apply(_ event: Event) {
        switch event {
        case .clientCreated(let e):
            exists = true
            clientID = e.clientID
            name = e.name
            email = e.email
        case .tokenIssued(let e):
            if let old = token { retiredTokens.append(old) }
            token = e.activationToken
        case .clientActivated:
            if status == .pending { status = .active }
        case .versionDrafted(let e):
            versions[e.versionID] = VersionSummary(pageType: e.pageType, versionNumber: e.versionNumber, outcome: nil, isCurrent: false)
            lastVersionNumber[e.pageType] = max(lastVersionNumber[e.pageType] ?? 0, e.versionNumber)
        case .versionPromoted(let e):
            if let previous = currentVersionByPage[e.pageType] { versions[previous]?.isCurrent = false }
            versions[e.versionID]?.isCurrent = true
            currentVersionByPage[e.pageType] = e.versionID
            currentVersionID = e.versionID
        case .outcomeRecorded(let e):
            versions[e.versionID]?.outcome = e.outcome
        case .paymentInitiated(let p):
            record(p, .pending)
        case .paymentSucceeded(let p):
            record(p, .succeeded)
            if status == .active || status == .failed { status = .paid }
        case .paymentFailed(let p):
            record(p, .failed)
            if status == .active { status = .failed }
        case .paymentCancelled(let p):
            record(p, .cancelled)
        case .clientDeleted:
            isDeleted = true
        }
    }

    private mutating func record(_ payment: PaymentRecord, _ status: PaymentStatus) {
        if var known = payments[payment.stripePaymentIntentID] {
            known.status = status
            payments[payment.stripePaymentIntentID] = known
        } else {
            payments[payment.stripePaymentIntentID] = PaymentSummary(
                paymentID: payment.paymentID, status: status, amount: payment.amount, contentVersionID: payment.contentVersionID
            )
        }
    }
}
