#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a stored payload at its type's current schema version in one pass over its bytes,
/// without building a dictionary of its fields first: what a fold does for every event.
///
/// It reads payloads written the way Folio writes them: keys without escapes, each field once,
/// ids in their 36-character form in lowercase, every field of the kind Folio writes it. For anything else it
/// gives `nil`, and `Event.decode` reads the payload through its parsed fields instead, which
/// accepts all this accepts and more, and names what is wrong. So this reader never decides that
/// a payload is bad, only that it is not the plain case (tested: wherever it reads a payload, the
/// two readings are the same event).
struct StreamedPayload {
    /// The fields of every event type, by their stored names.
    private enum Field: Int, CaseIterable {
        case clientID, versionID, paymentID, contentVersionID, previousVersionID
        case name, activationToken, pageType, createdBy, outcome, stripePaymentIntentID
        case email, replaces, iterationNotes, hypothesis, notes, reason
        case versionNumber, amount, metadata, content

        var key: StaticString {
            switch self {
            case .clientID: "client_id"
            case .versionID: "version_id"
            case .paymentID: "payment_id"
            case .contentVersionID: "content_version_id"
            case .previousVersionID: "previous_version_id"
            case .name: "name"
            case .activationToken: "activation_token"
            case .pageType: "page_type"
            case .createdBy: "created_by"
            case .outcome: "outcome"
            case .stripePaymentIntentID: "stripe_payment_intent_id"
            case .email: "email"
            case .replaces: "replaces"
            case .iterationNotes: "iteration_notes"
            case .hypothesis: "hypothesis"
            case .notes: "notes"
            case .reason: "reason"
            case .versionNumber: "version_number"
            case .amount: "amount"
            case .metadata: "metadata"
            case .content: "content"
            }
        }

        init?(_ key: UnsafeRawBufferPointer) {
            guard let field = Field.allCases.first(where: { $0.key.matches(key) }) else { return nil }
            self = field
        }
    }

    /// The type's fields, one bit each by `Field.rawValue`.
    private static let known: [EventType: UInt32] = Dictionary(uniqueKeysWithValues: EventType.allCases.map { type in
        (type, type.payloadKeys.reduce(0) { mask, key in
            var key = key
            return key.withUTF8 { mask | Field(UnsafeRawBufferPointer($0)).map { 1 << $0.rawValue }! }
        })
    })

    private var seen: UInt32 = 0
    /// Whether a member's key names no field of any type.
    private var foreign = false
    private var clientID: UUID?
    private var versionID: UUID?
    private var paymentID: UUID?
    private var contentVersionID: UUID?
    private var previousVersionID: UUID?
    private var name: String?
    private var activationToken: String?
    private var pageType: String?
    private var createdBy: String?
    private var outcome: String?
    private var stripePaymentIntentID: String?
    private var email: String?
    private var replaces: String?
    private var iterationNotes: String?
    private var hypothesis: String?
    private var notes: String?
    private var reason: String?
    private var versionNumber: Int?
    private var amount: Int?
    private var metadata: JSONValue?
    private var content: Range<Int>?

    /// The event a plainly written payload of `type` at its current schema version holds, or
    /// `nil` when the payload is anything else (to be read through its fields), which with
    /// `onlyKnownFields` includes a payload holding a field its type does not have.
    /// A draft's content is checked either way, and copied only when `copyingContent`.
    static func event(_ type: EventType, _ payload: UnsafeRawBufferPointer, copyingContent: Bool = true, onlyKnownFields: Bool = false) -> Event? {
        var fields = StreamedPayload()
        let read = try? JSONParser.readObject(payload) { key, reader throws(JSONParser.Failure) in
            try fields.read(key, &reader)
        }
        guard read == true else { return nil }
        if onlyKnownFields, fields.foreign || fields.seen & ~known[type, default: 0] != 0 { return nil }
        return fields.event(type, payload, copyingContent: copyingContent)
    }

    /// Reads one member's value into its field; `false` for a payload that is not the plain case.
    private mutating func read(_ key: UnsafeRawBufferPointer?, _ reader: inout JSONParser) throws(JSONParser.Failure) -> Bool {
        guard let key else { return false }
        guard let field = Field(key) else {
            foreign = true
            _ = try reader.readRaw()
            return true
        }
        let bit: UInt32 = 1 << field.rawValue
        guard seen & bit == 0 else { return false }
        seen |= bit
        switch field {
        case .clientID, .versionID, .paymentID:
            guard let id = try reader.readUUID(lowercaseOnly: true) else { return false }
            switch field {
            case .clientID: clientID = id
            case .versionID: versionID = id
            default: paymentID = id
            }
        case .contentVersionID, .previousVersionID:
            guard let isNull = try reader.readNullOrString() else { return false }
            if isNull { return true }
            guard let id = try reader.readUUID(lowercaseOnly: true) else { return false }
            if field == .contentVersionID { contentVersionID = id } else { previousVersionID = id }
        case .name, .activationToken, .pageType, .createdBy, .outcome, .stripePaymentIntentID:
            guard let text = try reader.readString() else { return false }
            setText(field, text)
        case .email, .replaces, .iterationNotes, .hypothesis, .notes, .reason:
            guard let isNull = try reader.readNullOrString() else { return false }
            if !isNull { setText(field, try reader.readString()) }
        case .versionNumber, .amount:
            guard case .integer(let value) = try reader.readValue(), let integer = Int(exactly: value) else { return false }
            if field == .versionNumber { versionNumber = integer } else { amount = integer }
        case .metadata:
            metadata = try reader.readValue()
        case .content:
            content = try reader.readRaw()
        }
        return true
    }

    private mutating func setText(_ field: Field, _ text: String?) {
        switch field {
        case .name: name = text
        case .activationToken: activationToken = text
        case .pageType: pageType = text
        case .createdBy: createdBy = text
        case .outcome: outcome = text
        case .stripePaymentIntentID: stripePaymentIntentID = text
        case .email: email = text
        case .replaces: replaces = text
        case .iterationNotes: iterationNotes = text
        case .hypothesis: hypothesis = text
        case .notes: notes = text
        default: reason = text
        }
    }

    private func event(_ type: EventType, _ payload: UnsafeRawBufferPointer, copyingContent: Bool) -> Event? {
        guard let clientID else { return nil }
        switch type {
        case .clientCreated:
            guard let name, let metadata else { return nil }
            return .clientCreated(ClientCreated(clientID: clientID, name: name, email: email, metadata: metadata))
        case .tokenIssued:
            guard let activationToken, let token = try? Token(activationToken) else { return nil }
            var replaced: Token?
            if let replaces {
                guard let token = try? Token(replaces) else { return nil }
                replaced = token
            }
            return .tokenIssued(TokenIssued(clientID: clientID, activationToken: token, replaces: replaced))
        case .clientActivated:
            guard let activationToken, let token = try? Token(activationToken) else { return nil }
            return .clientActivated(ClientActivated(clientID: clientID, activationToken: token))
        case .versionDrafted:
            guard let versionID, let page = pageType.flatMap(PageType.init(rawValue:)), let versionNumber, let content,
                  let createdBy, let metadata
            else { return nil }
            return .versionDrafted(VersionDrafted(
                clientID: clientID, versionID: versionID, pageType: page, versionNumber: versionNumber,
                content: copyingContent ? CanonicalJSON(canonicalBytes: Array(payload[content])) : .omitted, iterationNotes: iterationNotes,
                hypothesis: hypothesis, createdBy: createdBy, metadata: metadata
            ))
        case .versionPromoted:
            guard let versionID, let page = pageType.flatMap(PageType.init(rawValue:)) else { return nil }
            return .versionPromoted(VersionPromoted(clientID: clientID, versionID: versionID, pageType: page, previousVersionID: previousVersionID))
        case .outcomeRecorded:
            guard let versionID, let outcome = outcome.flatMap(Outcome.init(rawValue:)) else { return nil }
            return .outcomeRecorded(OutcomeRecorded(clientID: clientID, versionID: versionID, outcome: outcome, notes: notes))
        case .paymentInitiated, .paymentSucceeded, .paymentFailed, .paymentCancelled:
            guard let paymentID, let stripePaymentIntentID, let amount else { return nil }
            return .payment(type, PaymentRecord(
                clientID: clientID, paymentID: paymentID, contentVersionID: contentVersionID,
                stripePaymentIntentID: stripePaymentIntentID, amount: Int64(amount), reason: type == .paymentFailed ? reason : nil
            ))
        case .clientDeleted:
            return .clientDeleted(ClientDeleted(clientID: clientID))
        }
    }
}

extension StaticString {
    /// Whether `bytes` are this string's UTF-8: how a key read in place is matched to a known name.
    package func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        utf8CodeUnitCount == bytes.count && (bytes.isEmpty || memcmp(utf8Start, bytes.baseAddress!, bytes.count) == 0)
    }
}
