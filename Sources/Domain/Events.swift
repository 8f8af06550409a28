#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A client was created (status `pending`).
public struct ClientCreated: Codable, Hashable, Sendable {
    public var clientID: UUID
    public var name: String
    public var email: String?
    public var metadata: JSONValue

    public init(clientID: UUID, name: String, email: String?, metadata: JSONValue) {
        self.clientID = clientID
        self.name = name
        self.email = email
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey { case clientID = "client_id", name, email, metadata }
}

/// A token was issued to a client; `replaces` is the token it retires.
public struct TokenIssued: Codable, Hashable, Sendable {
    public var clientID: UUID
    public var activationToken: Token
    public var replaces: Token?

    public init(clientID: UUID, activationToken: Token, replaces: Token?) {
        self.clientID = clientID
        self.activationToken = activationToken
        self.replaces = replaces
    }

    enum CodingKeys: String, CodingKey { case clientID = "client_id", activationToken = "activation_token", replaces }
}

/// A client opened its activation link (pending → active).
public struct ClientActivated: Codable, Hashable, Sendable {
    public var clientID: UUID
    public var activationToken: Token

    public init(clientID: UUID, activationToken: Token) {
        self.clientID = clientID
        self.activationToken = activationToken
    }

    enum CodingKeys: String, CodingKey { case clientID = "client_id", activationToken = "activation_token" }
}

/// A content version was drafted for one of a client's pages.
public struct VersionDrafted: Codable, Hashable, Sendable {
    public var clientID: UUID
    public var versionID: UUID
    public var pageType: PageType
    public var versionNumber: Int
    /// The page's content, a JSON object, kept as its canonical bytes.
    public var content: CanonicalJSON
    public var iterationNotes: String?
    public var hypothesis: String?
    public var createdBy: String
    public var metadata: JSONValue

    public init(
        clientID: UUID, versionID: UUID, pageType: PageType, versionNumber: Int, content: CanonicalJSON,
        iterationNotes: String?, hypothesis: String?, createdBy: String, metadata: JSONValue
    ) {
        self.clientID = clientID
        self.versionID = versionID
        self.pageType = pageType
        self.versionNumber = versionNumber
        self.content = content
        self.iterationNotes = iterationNotes
        self.hypothesis = hypothesis
        self.createdBy = createdBy
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case clientID = "client_id", versionID = "version_id", pageType = "page_type", versionNumber = "version_number"
        case content, iterationNotes = "iteration_notes", hypothesis, createdBy = "created_by", metadata
    }
}

/// A version became current for its page; the previous current one (if any) stopped being.
public struct VersionPromoted: Codable, Hashable, Sendable {
    public var clientID: UUID
    public var versionID: UUID
    public var pageType: PageType
    public var previousVersionID: UUID?

    public init(clientID: UUID, versionID: UUID, pageType: PageType, previousVersionID: UUID?) {
        self.clientID = clientID
        self.versionID = versionID
        self.pageType = pageType
        self.previousVersionID = previousVersionID
    }

    enum CodingKeys: String, CodingKey {
        case clientID = "client_id", versionID = "version_id", pageType = "page_type", previousVersionID = "previous_version_id"
    }
}

/// What a version led to was recorded.
public struct OutcomeRecorded: Codable, Hashable, Sendable {
    public var clientID: UUID
    public var versionID: UUID
    public var outcome: Outcome
    public var notes: String?

    public init(clientID: UUID, versionID: UUID, outcome: Outcome, notes: String?) {
        self.clientID = clientID
        self.versionID = versionID
        self.outcome = outcome
        self.notes = notes
    }

    enum CodingKeys: String, CodingKey { case clientID = "client_id", versionID = "version_id", outcome, notes }
}

/// The payload of the four payment events.
public struct PaymentRecord: Codable, Hashable, Sendable {
    public var clientID: UUID
    public var paymentID: UUID
    public var contentVersionID: UUID?
    public var stripePaymentIntentID: String
    public var amount: Int64
    /// Why it failed (PaymentFailed only).
    public var reason: String?

    public init(clientID: UUID, paymentID: UUID, contentVersionID: UUID?, stripePaymentIntentID: String, amount: Int64, reason: String? = nil) {
        self.clientID = clientID
        self.paymentID = paymentID
        self.contentVersionID = contentVersionID
        self.stripePaymentIntentID = stripePaymentIntentID
        self.amount = amount
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case clientID = "client_id", paymentID = "payment_id", contentVersionID = "content_version_id"
        case stripePaymentIntentID = "stripe_payment_intent_id", amount, reason
    }
}

/// A client was deleted; its rows leave the read models, its history stays in the log.
public struct ClientDeleted: Codable, Hashable, Sendable {
    public var clientID: UUID

    public init(clientID: UUID) { self.clientID = clientID }

    enum CodingKeys: String, CodingKey { case clientID = "client_id" }
}

/// The stored names of the event types. Add, never rename: they are the storage format.
public enum EventType: String, CaseIterable, Sendable, Codable {
    case clientCreated = "ClientCreated"
    case tokenIssued = "TokenIssued"
    case clientActivated = "ClientActivated"
    case versionDrafted = "VersionDrafted"
    case versionPromoted = "VersionPromoted"
    case outcomeRecorded = "OutcomeRecorded"
    case paymentInitiated = "PaymentInitiated"
    case paymentSucceeded = "PaymentSucceeded"
    case paymentFailed = "PaymentFailed"
    case paymentCancelled = "PaymentCancelled"
    case clientDeleted = "ClientDeleted"

    /// The type stored under `name`.
    ///
    /// - Throws: `unknownEventType`, listing the known ones.
    public static func named(_ name: String) throws(DomainError) -> EventType {
        guard let type = EventType(rawValue: name) else {
            throw DomainError(.unknownEventType, "event type \"\(name)\" is unknown: one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return type
    }

    /// The payload schema version this build writes. Older payloads are upcast when read.
    public var currentSchemaVersion: Int {
        switch self {
        case .clientCreated: 2
        default: 1
        }
    }

    /// The fields of this type's payload at its current schema version, as `Event.payloadValue()`
    /// writes every one of them (an absent value as `null`).
    public var payloadKeys: [String] {
        switch self {
        case .clientCreated: ["client_id", "email", "metadata", "name"]
        case .tokenIssued: ["activation_token", "client_id", "replaces"]
        case .clientActivated: ["activation_token", "client_id"]
        case .versionDrafted:
            ["client_id", "content", "created_by", "hypothesis", "iteration_notes", "metadata", "page_type", "version_id", "version_number"]
        case .versionPromoted: ["client_id", "page_type", "previous_version_id", "version_id"]
        case .outcomeRecorded: ["client_id", "notes", "outcome", "version_id"]
        case .paymentInitiated, .paymentSucceeded, .paymentCancelled:
            ["amount", "client_id", "content_version_id", "payment_id", "stripe_payment_intent_id"]
        case .paymentFailed: ["amount", "client_id", "content_version_id", "payment_id", "reason", "stripe_payment_intent_id"]
        case .clientDeleted: ["client_id"]
        }
    }
}

extension EventType {
    /// The payload fields that hold ids, at every schema version.
    public static let idFields = ["client_id", "content_version_id", "payment_id", "previous_version_id", "version_id"]

    /// `fields` with every id written in lowercase, as Folio writes ids: a payload from elsewhere
    /// may write them in uppercase, which reads as the same id (RFC 9562), so that the log shows
    /// each id one way, as the read models do. Other strings (an intent, metadata) are left as they are.
    public static func lowercasingIDs(_ fields: [String: JSONValue]) -> [String: JSONValue] {
        var fields = fields
        for key in idFields {
            guard case .string(let text)? = fields[key], let id = UUID(text: text), id.lowercased != text else { continue }
            fields[key] = .string(id.lowercased)
        }
        return fields
    }
}

/// Everything that can happen to a client.
public enum Event: Hashable, Sendable {
    case clientCreated(ClientCreated)
    case tokenIssued(TokenIssued)
    case clientActivated(ClientActivated)
    case versionDrafted(VersionDrafted)
    case versionPromoted(VersionPromoted)
    case outcomeRecorded(OutcomeRecorded)
    case paymentInitiated(PaymentRecord)
    case paymentSucceeded(PaymentRecord)
    case paymentFailed(PaymentRecord)
    case paymentCancelled(PaymentRecord)
    case clientDeleted(ClientDeleted)

    public var type: EventType {
        switch self {
        case .clientCreated: .clientCreated
        case .tokenIssued: .tokenIssued
        case .clientActivated: .clientActivated
        case .versionDrafted: .versionDrafted
        case .versionPromoted: .versionPromoted
        case .outcomeRecorded: .outcomeRecorded
        case .paymentInitiated: .paymentInitiated
        case .paymentSucceeded: .paymentSucceeded
        case .paymentFailed: .paymentFailed
        case .paymentCancelled: .paymentCancelled
        case .clientDeleted: .clientDeleted
        }
    }

    public var clientID: UUID {
        switch self {
        case .clientCreated(let e): e.clientID
        case .tokenIssued(let e): e.clientID
        case .clientActivated(let e): e.clientID
        case .versionDrafted(let e): e.clientID
        case .versionPromoted(let e): e.clientID
        case .outcomeRecorded(let e): e.clientID
        case .paymentInitiated(let e), .paymentSucceeded(let e), .paymentFailed(let e), .paymentCancelled(let e): e.clientID
        case .clientDeleted(let e): e.clientID
        }
    }

    /// The payment payload, for the four payment events.
    public var payment: PaymentRecord? {
        switch self {
        case .paymentInitiated(let p), .paymentSucceeded(let p), .paymentFailed(let p), .paymentCancelled(let p): p
        default: nil
        }
    }

    /// The payment event of `type` (one of the four) carrying `record`.
    static func payment(_ type: EventType, _ record: PaymentRecord) -> Event {
        switch type {
        case .paymentInitiated: .paymentInitiated(record)
        case .paymentSucceeded: .paymentSucceeded(record)
        case .paymentFailed: .paymentFailed(record)
        default: .paymentCancelled(record)
        }
    }

    /// What names a client's stream before its id.
    public static let streamPrefix = "client-"

    /// The stream of a client's events: `client-<lowercase uuid>`.
    public static func stream(for clientID: UUID) -> String { streamPrefix + clientID.lowercased }

    /// The payload as canonical JSON (sorted keys, no whitespace, lowercase UUIDs) at the current schema version.
    public func encodePayload() -> Data {
        guard case .versionDrafted(let e) = self else { return payloadValue().canonicalJSON() }
        // The content is canonical already: copied in, not rebuilt and written again.
        var writer = JSONWriter(escapeSlashes: false, capacity: e.content.bytes.count + 512)
        writer.beginObject()
        writer.key("client_id")
        writer.string(e.clientID.lowercased)
        writer.key("content")
        writer.canonical(e.content)
        writer.key("created_by")
        writer.string(e.createdBy)
        writer.key("hypothesis")
        writer.string(e.hypothesis)
        writer.key("iteration_notes")
        writer.string(e.iterationNotes)
        writer.key("metadata")
        writer.value(e.metadata)
        writer.key("page_type")
        writer.string(e.pageType.rawValue)
        writer.key("version_id")
        writer.string(e.versionID.lowercased)
        writer.key("version_number")
        writer.integer(Int64(e.versionNumber))
        writer.endObject()
        return Data(writer.bytes)
    }

    /// The payload as a JSON object, keys as in the schema.
    public func payloadValue() -> JSONValue {
        func id(_ id: UUID) -> JSONValue { .string(id.lowercased) }
        func optionalID(_ id: UUID?) -> JSONValue { id.map { .string($0.lowercased) } ?? .null }
        func text(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
        switch self {
        case .clientCreated(let e):
            return .object(["client_id": id(e.clientID), "name": .string(e.name), "email": text(e.email), "metadata": e.metadata])
        case .tokenIssued(let e):
            return .object(["client_id": id(e.clientID), "activation_token": .string(e.activationToken.description), "replaces": text(e.replaces?.description)])
        case .clientActivated(let e):
            return .object(["client_id": id(e.clientID), "activation_token": .string(e.activationToken.description)])
        case .versionDrafted(let e):
            return .object([
                "client_id": id(e.clientID), "version_id": id(e.versionID), "page_type": .string(e.pageType.rawValue),
                "version_number": .integer(Int64(e.versionNumber)), "content": e.content.value, "iteration_notes": text(e.iterationNotes),
                "hypothesis": text(e.hypothesis), "created_by": .string(e.createdBy), "metadata": e.metadata,
            ])
        case .versionPromoted(let e):
            return .object([
                "client_id": id(e.clientID), "version_id": id(e.versionID), "page_type": .string(e.pageType.rawValue),
                "previous_version_id": optionalID(e.previousVersionID),
            ])
        case .outcomeRecorded(let e):
            return .object(["client_id": id(e.clientID), "version_id": id(e.versionID), "outcome": .string(e.outcome.rawValue), "notes": text(e.notes)])
        case .paymentInitiated(let e), .paymentSucceeded(let e), .paymentCancelled(let e):
            return .object([
                "client_id": id(e.clientID), "payment_id": id(e.paymentID), "content_version_id": optionalID(e.contentVersionID),
                "stripe_payment_intent_id": .string(e.stripePaymentIntentID), "amount": .integer(e.amount),
            ])
        case .paymentFailed(let e):
            return .object([
                "client_id": id(e.clientID), "payment_id": id(e.paymentID), "content_version_id": optionalID(e.contentVersionID),
                "stripe_payment_intent_id": .string(e.stripePaymentIntentID), "amount": .integer(e.amount), "reason": text(e.reason),
            ])
        case .clientDeleted(let e):
            return .object(["client_id": id(e.clientID)])
        }
    }

    /// Reads a stored payload of `type` at `schemaVersion`, upcasting older payloads first.
    ///
    /// - Throws: `unknownEventType`, or `invalidPayload` naming the type and the field.
    public static func decode(type: String, schemaVersion: Int, payload: some Collection<UInt8>) throws(DomainError) -> Event {
        try decode(type: EventType.named(type), schemaVersion: schemaVersion, payload: payload)
    }

    /// Reads a stored payload of `type` at `schemaVersion`, upcasting older payloads first.
    ///
    /// A draft's content is always checked; without `copyingContent` a plainly written one is
    /// not copied out of the payload and its event's `content` is `CanonicalJSON.omitted` (for a
    /// fold whose projectors do not read it).
    ///
    /// - Throws: `invalidPayload` naming the type and the field.
    public static func decode(
        type eventType: EventType, schemaVersion: Int, payload: some Collection<UInt8>, copyingContent: Bool = true
    ) throws(DomainError) -> Event {
        let type = eventType.rawValue
        guard schemaVersion >= 1, schemaVersion <= eventType.currentSchemaVersion else {
            throw DomainError(.invalidPayload, "\(type) schema version \(schemaVersion) is not one this Folio reads (1…\(eventType.currentSchemaVersion))")
        }
        // Payloads as Folio writes them are read in one pass; any other goes through its parsed
        // fields, which names what is wrong with it.
        if let event = payload.withContiguousStorageIfAvailable({
            decodeIfPlain(type: eventType, schemaVersion: schemaVersion, payload: UnsafeRawBufferPointer($0), copyingContent: copyingContent)
        }) ?? nil {
            return event
        }
        return try decodeParsing(type: eventType, schemaVersion: schemaVersion, payload: payload)
    }

    /// The event a payload of `type` at its current schema version holds when it is written the
    /// way Folio writes it, read in one pass; `nil` for any other payload, which `decode` reads
    /// (or refuses, saying why) through its parsed fields.
    public static func decodeIfPlain(
        type eventType: EventType, schemaVersion: Int, payload: UnsafeRawBufferPointer, copyingContent: Bool = true, onlyKnownFields: Bool = false
    ) -> Event? {
        guard schemaVersion == eventType.currentSchemaVersion else { return nil }
        return StreamedPayload.event(eventType, payload, copyingContent: copyingContent, onlyKnownFields: onlyKnownFields)
    }

    /// `decode`, through the payload's parsed fields: reads every payload `decode` reads.
    static func decodeParsing(type eventType: EventType, schemaVersion: Int, payload: some Collection<UInt8>) throws(DomainError) -> Event {
        let type = eventType.rawValue
        if eventType == .versionDrafted, schemaVersion == eventType.currentSchemaVersion {
            return try decodeDraft(payload)
        }
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(payload)
        } catch .duplicateKey(let key) {
            throw DomainError(.invalidPayload, "\(type) payload holds the key \"\(key.shortened)\" twice")
        } catch .equivalentKeys(let first, let second) {
            throw DomainError(.invalidPayload, "\(type) payload holds \(String.equivalentKeys(first, second)), one text in two Unicode forms")
        } catch {
            throw DomainError(.invalidPayload, "\(type) payload is not a JSON object")
        }
        guard case .object(let fields) = parsed else {
            throw DomainError(.invalidPayload, "\(type) payload is not a JSON object")
        }
        return try decode(type: eventType, schemaVersion: schemaVersion, fields: fields)
    }

    /// Reads a stored `VersionDrafted` payload with its content copied as it stands: payloads are
    /// canonical, so the content's bytes are too. The content is checked as JSON, not built.
    private static func decodeDraft(_ payload: some Collection<UInt8>) throws(DomainError) -> Event {
        let type = EventType.versionDrafted.rawValue
        func parse(_ buffer: UnsafeRawBufferPointer) -> (fields: [String: JSONValue], content: [UInt8]?)? {
            guard let (fields, raw) = try? JSONParser.parseObject(buffer, rawKey: "content") else { return nil }
            return (fields, raw.map { Array(buffer[$0]) })
        }
        let parsed = payload.withContiguousStorageIfAvailable { parse(UnsafeRawBufferPointer($0)) } ?? Array(payload).withUnsafeBytes(parse)
        guard let (fields, content) = parsed else {
            throw DomainError(.invalidPayload, "\(type) payload is not a JSON object")
        }
        guard let content else { throw DomainError(.invalidPayload, "\(type) payload is invalid: content is missing") }
        let f = PayloadFields(type: type, fields: fields)
        return .versionDrafted(VersionDrafted(
            clientID: try f.uuid("client_id"), versionID: try f.uuid("version_id"), pageType: try f.page("page_type"),
            versionNumber: try f.integer("version_number"), content: CanonicalJSON(canonicalBytes: content),
            iterationNotes: try f.optionalString("iteration_notes"), hypothesis: try f.optionalString("hypothesis"),
            createdBy: try f.string("created_by"), metadata: try f.json("metadata")
        ))
    }

    /// Refuses a payload holding a field its type does not have at its schema version, as
    /// import does: decoding alone would pass over a misspelt `reasn` and keep it unread, the
    /// reason lost (and upcasting could write over a field of a later version: a version 1
    /// `ClientCreated` holding `email`). Decoding stored payloads does not ask this.
    ///
    /// - Throws: `invalidPayload` naming the first such field and the type's fields.
    public static func checkKnownFields(type eventType: EventType, schemaVersion: Int, fields: [String: JSONValue]) throws(DomainError) {
        let known: [String], checked: [String: JSONValue]
        if schemaVersion < eventType.currentSchemaVersion, let older = Upcaster.fields[eventType]?[schemaVersion] {
            (known, checked) = (older, fields)
        } else {
            known = eventType.payloadKeys
            checked = schemaVersion < eventType.currentSchemaVersion
                ? try Upcaster.upcast(type: eventType, from: schemaVersion, fields: fields) : fields
        }
        guard let unknown = checked.keys.filter({ !known.contains($0) }).min() else { return }
        let version = schemaVersion < eventType.currentSchemaVersion ? " (schema version \(schemaVersion))" : ""
        throw DomainError(
            .invalidPayload,
            "\(eventType.rawValue) payload\(version) has no field \"\(unknown.shortened)\": its fields are \(known.joined(separator: ", "))"
        )
    }

    /// Reads a payload already parsed into its fields, of `type` at `schemaVersion`, upcasting
    /// older payloads first.
    ///
    /// - Throws: `invalidPayload` naming the type and the field.
    public static func decode(type eventType: EventType, schemaVersion: Int, fields: [String: JSONValue]) throws(DomainError) -> Event {
        let type = eventType.rawValue
        guard schemaVersion >= 1, schemaVersion <= eventType.currentSchemaVersion else {
            throw DomainError(.invalidPayload, "\(type) schema version \(schemaVersion) is not one this Folio reads (1…\(eventType.currentSchemaVersion))")
        }
        var fields = fields
        if schemaVersion < eventType.currentSchemaVersion {
            fields = try Upcaster.upcast(type: eventType, from: schemaVersion, fields: fields)
        }
        let f = PayloadFields(type: type, fields: fields)
        switch eventType {
        case .clientCreated:
            return .clientCreated(ClientCreated(
                clientID: try f.uuid("client_id"), name: try f.string("name"), email: try f.optionalString("email"),
                metadata: try f.json("metadata")
            ))
        case .tokenIssued:
            return .tokenIssued(TokenIssued(clientID: try f.uuid("client_id"), activationToken: try f.token("activation_token"), replaces: try f.optionalToken("replaces")))
        case .clientActivated:
            return .clientActivated(ClientActivated(clientID: try f.uuid("client_id"), activationToken: try f.token("activation_token")))
        case .versionDrafted:
            return .versionDrafted(VersionDrafted(
                clientID: try f.uuid("client_id"), versionID: try f.uuid("version_id"), pageType: try f.page("page_type"),
                versionNumber: try f.integer("version_number"), content: CanonicalJSON(try f.json("content")),
                iterationNotes: try f.optionalString("iteration_notes"), hypothesis: try f.optionalString("hypothesis"),
                createdBy: try f.string("created_by"), metadata: try f.json("metadata")
            ))
        case .versionPromoted:
            return .versionPromoted(VersionPromoted(
                clientID: try f.uuid("client_id"), versionID: try f.uuid("version_id"), pageType: try f.page("page_type"),
                previousVersionID: try f.optionalUUID("previous_version_id")
            ))
        case .outcomeRecorded:
            return .outcomeRecorded(OutcomeRecorded(
                clientID: try f.uuid("client_id"), versionID: try f.uuid("version_id"), outcome: try f.outcome("outcome"), notes: try f.optionalString("notes")
            ))
        case .paymentInitiated, .paymentSucceeded, .paymentFailed, .paymentCancelled:
            return .payment(eventType, PaymentRecord(
                clientID: try f.uuid("client_id"), paymentID: try f.uuid("payment_id"), contentVersionID: try f.optionalUUID("content_version_id"),
                stripePaymentIntentID: try f.string("stripe_payment_intent_id"), amount: Int64(try f.integer("amount")),
                reason: eventType == .paymentFailed ? try f.optionalString("reason") : nil
            ))
        case .clientDeleted:
            return .clientDeleted(ClientDeleted(clientID: try f.uuid("client_id")))
        }
    }
}

/// Brings stored payloads of older schema versions up to the current one, step by step.
public enum Upcaster {
    /// One step: the payload object at `from` becomes the object at `from + 1`.
    public typealias Step = @Sendable ([String: JSONValue]) -> [String: JSONValue]

    /// The fields of payloads at older schema versions, by type and version, in order.
    public static let fields: [EventType: [Int: [String]]] = [
        .clientCreated: [1: ["client_id", "contact_email", "name"]],
    ]

    /// The steps, by type and the version they start from.
    ///
    /// ClientCreated v1 named the email `contact_email` and had no `metadata`; v2 renames it
    /// and adds `metadata: {}`.
    public static let steps: [EventType: [Int: Step]] = [
        .clientCreated: [
            1: { old in
                var new = old
                new["email"] = old["contact_email"] ?? .null
                new["contact_email"] = nil
                if new["metadata"] == nil { new["metadata"] = .object([:]) }
                return new
            },
        ],
    ]

    /// Upcasts a payload's fields of `type` from `version` to the type's current version.
    public static func upcast(type: EventType, from version: Int, fields: [String: JSONValue]) throws(DomainError) -> [String: JSONValue] {
        var fields = fields
        var version = version
        while version < type.currentSchemaVersion {
            guard let step = steps[type]?[version] else {
                throw DomainError(.invalidPayload, "\(type.rawValue) has no upcast from schema version \(version)")
            }
            fields = step(fields)
            version += 1
        }
        return fields
    }
}

/// Reads the fields of a parsed payload, naming the field at fault.
private struct PayloadFields {
    let type: String
    let fields: [String: JSONValue]

    func wrong(_ key: String) -> DomainError {
        guard let value = fields[key] else { return DomainError(.invalidPayload, "\(type) payload is invalid: \(key) is missing") }
        let shown: String = if case .string(let text) = value { text } else { String(decoding: value.canonicalBytes(), as: UTF8.self) }
        // The one field of these a rule governs says which.
        let rule = key == "amount" ? ": an amount is a positive whole number of cents (rule 6)" : ""
        return DomainError(.invalidPayload, "\(type) payload is invalid: \(key) has the wrong type or value (\(shown.prefix(40)))\(rule)")
    }

    func string(_ key: String) throws(DomainError) -> String {
        guard case .string(let value)? = fields[key] else { throw wrong(key) }
        return value
    }

    func optionalString(_ key: String) throws(DomainError) -> String? {
        switch fields[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw wrong(key)
        }
    }

    func uuid(_ key: String) throws(DomainError) -> UUID {
        guard let id = UUID(text: try string(key)) else { throw wrong(key) }
        return id
    }

    func optionalUUID(_ key: String) throws(DomainError) -> UUID? {
        guard let text = try optionalString(key) else { return nil }
        guard let id = UUID(text: text) else { throw wrong(key) }
        return id
    }

    func integer(_ key: String) throws(DomainError) -> Int {
        guard case .integer(let value)? = fields[key], let int = Int(exactly: value) else { throw wrong(key) }
        return int
    }

    func json(_ key: String) throws(DomainError) -> JSONValue {
        guard let value = fields[key] else { throw wrong(key) }
        return value
    }

    /// Rethrows a value's own refusal (which names its rule) as this payload's.
    func named<T>(_ key: String, _ parse: (String) throws(DomainError) -> T, _ text: String) throws(DomainError) -> T {
        do { return try parse(text) } catch { throw DomainError(error.code, "\(type) \(key): \(error.message)") }
    }

    func token(_ key: String) throws(DomainError) -> Token {
        try named(key, { (text: String) throws(DomainError) in try Token(text) }, try string(key))
    }

    func optionalToken(_ key: String) throws(DomainError) -> Token? {
        guard let text = try optionalString(key) else { return nil }
        return try named(key, { (text: String) throws(DomainError) in try Token(text) }, text)
    }

    func page(_ key: String) throws(DomainError) -> PageType {
        try named(key, PageType.parse, try string(key))
    }

    func outcome(_ key: String) throws(DomainError) -> Outcome {
        try named(key, Outcome.parse, try string(key))
    }
}
