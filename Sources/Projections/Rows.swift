import Domain
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A row of `clients`, as the documented schema has it (plus `activated_at` and `updated_at`).
public struct ClientRow: Hashable, Sendable, Codable {
    public var id: UUID
    public var name: String
    public var email: String?
    public var activationToken: Token?
    public var currentVersionID: UUID?
    public var status: ClientStatus
    public var metadata: JSONValue
    public var createdAt: Date
    /// When the client was activated (an addition to the schema).
    public var activatedAt: Date?
    /// When the row last changed (an addition to the schema).
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, email, activationToken = "activation_token", currentVersionID = "current_version_id", status, metadata
        case createdAt = "created_at", activatedAt = "activated_at", updatedAt = "updated_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.lowercased, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(email, forKey: .email)
        try c.encode(activationToken, forKey: .activationToken)
        try c.encode(currentVersionID?.lowercased, forKey: .currentVersionID)
        try c.encode(status, forKey: .status)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(Timestamp.format(createdAt), forKey: .createdAt)
        try c.encode(activatedAt.map(Timestamp.format), forKey: .activatedAt)
        try c.encode(Timestamp.format(updatedAt), forKey: .updatedAt)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(UUID.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        email = try c.decodeIfPresent(String.self, forKey: .email)
        activationToken = try c.decodeIfPresent(Token.self, forKey: .activationToken)
        currentVersionID = try c.decodeIfPresent(UUID.self, forKey: .currentVersionID)
        status = try c.decode(ClientStatus.self, forKey: .status)
        metadata = try c.decode(JSONValue.self, forKey: .metadata)
        createdAt = try c.decodeDate(.createdAt)
        activatedAt = try c.decodeDateIfPresent(.activatedAt)
        updatedAt = try c.decodeDate(.updatedAt)
    }

    init(id: UUID, name: String, email: String?, metadata: JSONValue, createdAt: Date) {
        self.id = id
        self.name = name
        self.email = email
        self.metadata = metadata
        self.status = .pending
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }
}

/// A row of `content_versions`, as the documented schema has it (plus `promoted_at` and `demoted_at`).
public struct VersionRow: Hashable, Sendable, Codable {
    public var id: UUID
    public var clientID: UUID
    public var pageType: PageType
    /// The page's content, kept as its canonical bytes (`content.value` is the JSON value).
    public var content: CanonicalJSON
    /// The log position of the `VersionDrafted` event whose payload holds `content`. A stored row
    /// keeps this instead of a second copy of the content (as PostgreSQL keeps large values out
    /// of line), and `ReadModel` reads the content back from the log; `nil` for a row that holds
    /// its content itself (stored by an earlier Folio, or decoded from JSON).
    public var contentPosition: UInt64?
    public var iterationNotes: String?
    public var hypothesis: String?
    public var outcome: Outcome?
    public var isCurrent: Bool
    public var versionNumber: Int
    public var createdAt: Date
    public var createdBy: String
    public var metadata: JSONValue
    /// When it last became current (an addition to the schema).
    public var promotedAt: Date?
    /// When it last stopped being current (an addition to the schema).
    public var demotedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, clientID = "client_id", pageType = "page_type", content, iterationNotes = "iteration_notes", hypothesis, outcome
        case isCurrent = "is_current", versionNumber = "version_number", createdAt = "created_at", createdBy = "created_by", metadata
        case promotedAt = "promoted_at", demotedAt = "demoted_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.lowercased, forKey: .id)
        try c.encode(clientID.lowercased, forKey: .clientID)
        try c.encode(pageType, forKey: .pageType)
        try c.encode(content, forKey: .content)
        try c.encode(iterationNotes, forKey: .iterationNotes)
        try c.encode(hypothesis, forKey: .hypothesis)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(isCurrent, forKey: .isCurrent)
        try c.encode(versionNumber, forKey: .versionNumber)
        try c.encode(Timestamp.format(createdAt), forKey: .createdAt)
        try c.encode(createdBy, forKey: .createdBy)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(promotedAt.map(Timestamp.format), forKey: .promotedAt)
        try c.encode(demotedAt.map(Timestamp.format), forKey: .demotedAt)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(UUID.self, forKey: .id)
        clientID = try c.decode(UUID.self, forKey: .clientID)
        pageType = try c.decode(PageType.self, forKey: .pageType)
        content = try c.decode(CanonicalJSON.self, forKey: .content)
        iterationNotes = try c.decodeIfPresent(String.self, forKey: .iterationNotes)
        hypothesis = try c.decodeIfPresent(String.self, forKey: .hypothesis)
        outcome = try c.decodeIfPresent(Outcome.self, forKey: .outcome)
        isCurrent = try c.decode(Bool.self, forKey: .isCurrent)
        versionNumber = try c.decode(Int.self, forKey: .versionNumber)
        createdAt = try c.decodeDate(.createdAt)
        createdBy = try c.decode(String.self, forKey: .createdBy)
        metadata = try c.decode(JSONValue.self, forKey: .metadata)
        promotedAt = try c.decodeDateIfPresent(.promotedAt)
        demotedAt = try c.decodeDateIfPresent(.demotedAt)
    }

    init(_ e: VersionDrafted, at envelope: Envelope) {
        id = e.versionID
        clientID = e.clientID
        pageType = e.pageType
        content = e.content
        contentPosition = envelope.position
        iterationNotes = e.iterationNotes
        hypothesis = e.hypothesis
        isCurrent = false
        versionNumber = e.versionNumber
        createdAt = envelope.recordedAt
        createdBy = e.createdBy
        metadata = e.metadata
    }
}

/// A row of `payments`, as the documented schema has it (plus `updated_at` and `failure_reason`).
public struct PaymentRow: Hashable, Sendable, Codable {
    public var id: UUID
    public var clientID: UUID
    public var contentVersionID: UUID?
    public var stripePaymentIntentID: String
    public var amount: Int64
    public var status: PaymentStatus
    public var createdAt: Date
    /// When the status last changed (an addition to the schema).
    public var updatedAt: Date
    /// Why it failed, when Stripe said (an addition to the schema).
    public var failureReason: String?

    enum CodingKeys: String, CodingKey {
        case id, clientID = "client_id", contentVersionID = "content_version_id", stripePaymentIntentID = "stripe_payment_intent_id"
        case amount, status, createdAt = "created_at", updatedAt = "updated_at", failureReason = "failure_reason"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.lowercased, forKey: .id)
        try c.encode(clientID.lowercased, forKey: .clientID)
        try c.encode(contentVersionID?.lowercased, forKey: .contentVersionID)
        try c.encode(stripePaymentIntentID, forKey: .stripePaymentIntentID)
        try c.encode(amount, forKey: .amount)
        try c.encode(status, forKey: .status)
        try c.encode(Timestamp.format(createdAt), forKey: .createdAt)
        try c.encode(Timestamp.format(updatedAt), forKey: .updatedAt)
        try c.encode(failureReason, forKey: .failureReason)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(UUID.self, forKey: .id)
        clientID = try c.decode(UUID.self, forKey: .clientID)
        contentVersionID = try c.decodeIfPresent(UUID.self, forKey: .contentVersionID)
        stripePaymentIntentID = try c.decode(String.self, forKey: .stripePaymentIntentID)
        amount = try c.decode(Int64.self, forKey: .amount)
        status = try c.decode(PaymentStatus.self, forKey: .status)
        createdAt = try c.decodeDate(.createdAt)
        updatedAt = try c.decodeDate(.updatedAt)
        failureReason = try c.decodeIfPresent(String.self, forKey: .failureReason)
    }

    init(_ p: PaymentRecord, status: PaymentStatus, at: Date) {
        id = p.paymentID
        clientID = p.clientID
        contentVersionID = p.contentVersionID
        stripePaymentIntentID = p.stripePaymentIntentID
        amount = p.amount
        self.status = status
        createdAt = at
        updatedAt = at
        failureReason = status == .failed ? p.reason : nil
    }
}

extension KeyedDecodingContainer {
    func decodeDate(_ key: Key) throws -> Date {
        let text = try decode(String.self, forKey: key)
        guard let micros = Timestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not an ISO 8601 UTC timestamp")
        }
        return Date(microseconds: micros)
    }

    func decodeDateIfPresent(_ key: Key) throws -> Date? {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let micros = Timestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not an ISO 8601 UTC timestamp")
        }
        return Date(microseconds: micros)
    }
}

extension Date {
    init(microseconds: Int64) { self.init(timeIntervalSince1970: Double(microseconds) / 1_000_000) }
}

