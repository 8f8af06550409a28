import Domain
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A value stored in a read-model table: its bytes, and back.
///
/// Catch-up and rebuild both encode through `encode(into:)`, so an incrementally maintained row
/// and a rebuilt one are the same bytes. Rows are JSON objects (keys in UTF-8 byte order, the same
/// bytes `JSONEncoder` with `.sortedKeys` writes for the public rows); index entries, which
/// only point at a row, are the 16 bytes of an id.
public protocol StoredRow: Sendable {
    func encode(into bytes: inout [UInt8])
    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> Self
}

/// A row stored as a JSON object.
public protocol JSONRow: StoredRow {
    /// Writes the fields with `writer.key` and a value each, keys in UTF-8 byte order.
    func write(to writer: inout JSONWriter)
    init(fields: RowFields) throws
}

extension JSONRow {
    public func encode(into bytes: inout [UInt8]) {
        Self.writeObject(into: &bytes) { write(to: &$0) }
    }

    /// The row as a JSON object with the documented schema's columns (what Folio prints), which
    /// for most rows is also how it is stored.
    public func jsonObject() -> [UInt8] {
        var bytes: [UInt8] = []
        Self.writeObject(into: &bytes) { write(to: &$0) }
        return bytes
    }

    /// Appends a JSON object whose fields `body` writes to `bytes`.
    static func writeObject(into bytes: inout [UInt8], _ body: (inout JSONWriter) -> Void) {
        var writer = JSONWriter(capacity: 0)
        swap(&writer.bytes, &bytes)
        writer.beginObject()
        body(&writer)
        writer.endObject()
        swap(&writer.bytes, &bytes)
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> Self {
        guard case .object(let fields)? = try? JSONParser.parse(bytes) else {
            throw ProjectionError(.decodeFailed, "a stored \(Self.self) is not a JSON object")
        }
        return try Self(fields: RowFields(row: "\(Self.self)", fields: fields))
    }
}

extension UUID: StoredRow {
    public func encode(into bytes: inout [UInt8]) {
        withUnsafeBytes(of: uuid) { bytes.append(contentsOf: $0) }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> UUID {
        guard bytes.count == 16 else { throw ProjectionError(.decodeFailed, "a stored id is \(bytes.count) bytes, not 16") }
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { $0.copyMemory(from: bytes) }
        return UUID(uuid: uuid)
    }
}

/// Encodes rows for LMDB.
enum RowCoding {
    static func encode(_ row: some StoredRow) -> [UInt8] {
        var bytes: [UInt8] = []
        row.encode(into: &bytes)
        return bytes
    }
}

/// The fields of a stored row, read by name; a missing or mistyped field is a `decodeFailed` naming it.
public struct RowFields {
    let row: String
    let fields: [String: JSONValue]

    func wrong(_ key: String) -> ProjectionError {
        ProjectionError(.decodeFailed, "a stored \(row) has \(fields[key] == nil ? "no" : "an unreadable") \(key)")
    }

    public func string(_ key: String) throws -> String {
        guard case .string(let text)? = fields[key] else { throw wrong(key) }
        return text
    }

    public func optionalString(_ key: String) throws -> String? {
        switch fields[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw wrong(key)
        }
    }

    public func uuid(_ key: String) throws -> UUID {
        guard let id = UUID(text: try string(key)) else { throw wrong(key) }
        return id
    }

    public func optionalUUID(_ key: String) throws -> UUID? {
        guard let text = try optionalString(key) else { return nil }
        guard let id = UUID(text: text) else { throw wrong(key) }
        return id
    }

    public func integer(_ key: String) throws -> Int64 {
        guard case .integer(let value)? = fields[key] else { throw wrong(key) }
        return value
    }

    /// The integer under `key`, or `nil` when the row has no such field.
    public func optionalInteger(_ key: String) throws -> Int64? {
        guard fields[key] != nil else { return nil }
        return try integer(key)
    }

    public func bool(_ key: String) throws -> Bool {
        guard case .bool(let value)? = fields[key] else { throw wrong(key) }
        return value
    }

    public func json(_ key: String) throws -> JSONValue {
        guard let value = fields[key] else { throw wrong(key) }
        return value
    }

    public func date(_ key: String) throws -> Date {
        guard let date = try optionalDate(key) else { throw wrong(key) }
        return date
    }

    public func optionalDate(_ key: String) throws -> Date? {
        guard let text = try optionalString(key) else { return nil }
        guard let micros = Timestamp.parse(text) else { throw wrong(key) }
        return Date(microseconds: micros)
    }

    public func value<T: RawRepresentable<String>>(_ key: String, as: T.Type = T.self) throws -> T {
        guard let value = T(rawValue: try string(key)) else { throw wrong(key) }
        return value
    }

    public func optionalValue<T: RawRepresentable<String>>(_ key: String, as: T.Type = T.self) throws -> T? {
        guard let text = try optionalString(key) else { return nil }
        guard let value = T(rawValue: text) else { throw wrong(key) }
        return value
    }

    public func token(_ key: String) throws -> Token? {
        guard let text = try optionalString(key) else { return nil }
        guard let token = try? Token(text) else { throw wrong(key) }
        return token
    }
}

extension JSONWriter {
    mutating func id(_ id: UUID) {
        bytes.append(UInt8(ascii: "\""))
        id.appendLowercased(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func id(_ id: UUID?) {
        if let id { self.id(id) } else { null() }
    }

    mutating func date(_ date: Date) {
        bytes.append(UInt8(ascii: "\""))
        Timestamp.append(microseconds: Timestamp.microseconds(date), to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func date(_ date: Date?) {
        if let date { self.date(date) } else { null() }
    }

    mutating func raw(_ value: (some RawRepresentable<String>)?) {
        string(value?.rawValue)
    }
}

// MARK: - The rows

extension ClientRow: JSONRow {
    public func write(to w: inout JSONWriter) {
        w.key("activated_at"); w.date(activatedAt)
        w.key("activation_token"); w.string(activationToken?.description)
        w.key("created_at"); w.date(createdAt)
        w.key("current_version_id"); w.id(currentVersionID)
        w.key("email"); w.string(email)
        w.key("id"); w.id(id)
        w.key("metadata"); w.value(metadata)
        w.key("name"); w.string(name)
        w.key("status"); w.raw(status)
        w.key("updated_at"); w.date(updatedAt)
    }

    public init(fields f: RowFields) throws {
        id = try f.uuid("id")
        name = try f.string("name")
        email = try f.optionalString("email")
        activationToken = try f.token("activation_token")
        currentVersionID = try f.optionalUUID("current_version_id")
        status = try f.value("status")
        metadata = try f.json("metadata")
        createdAt = try f.date("created_at")
        activatedAt = try f.optionalDate("activated_at")
        updatedAt = try f.date("updated_at")
    }
}

extension VersionRow: JSONRow {
    /// The row with its content, as the documented schema has it (and as `JSONEncoder` writes it).
    public func write(to w: inout JSONWriter) {
        write(to: &w, contentByPosition: false)
    }

    /// The stored row: `content_position` (the draft's log position) in place of `content` when
    /// the position is known, so the read model does not keep a second copy of every page.
    public func encode(into bytes: inout [UInt8]) {
        Self.writeObject(into: &bytes) { write(to: &$0, contentByPosition: true) }
    }

    private func write(to w: inout JSONWriter, contentByPosition: Bool) {
        w.key("client_id"); w.id(clientID)
        if contentByPosition, let contentPosition {
            w.key("content_position"); w.integer(Int64(contentPosition))
        } else {
            w.key("content"); w.canonical(content)
        }
        w.key("created_at"); w.date(createdAt)
        w.key("created_by"); w.string(createdBy)
        w.key("demoted_at"); w.date(demotedAt)
        w.key("hypothesis"); w.string(hypothesis)
        w.key("id"); w.id(id)
        w.key("is_current"); w.bool(isCurrent)
        w.key("iteration_notes"); w.string(iterationNotes)
        w.key("metadata"); w.value(metadata)
        w.key("outcome"); w.raw(outcome)
        w.key("page_type"); w.raw(pageType)
        w.key("promoted_at"); w.date(promotedAt)
        w.key("version_number"); w.integer(Int64(versionNumber))
    }

    public init(fields f: RowFields) throws {
        id = try f.uuid("id")
        clientID = try f.uuid("client_id")
        pageType = try f.value("page_type")
        if let position = try f.optionalInteger("content_position") {
            guard position > 0 else { throw f.wrong("content_position") }
            contentPosition = UInt64(position)
            content = .omitted  // read from the log by `ReadModel`
        } else {
            content = CanonicalJSON(try f.json("content"))
        }
        iterationNotes = try f.optionalString("iteration_notes")
        hypothesis = try f.optionalString("hypothesis")
        outcome = try f.optionalValue("outcome")
        isCurrent = try f.bool("is_current")
        versionNumber = Int(try f.integer("version_number"))
        createdAt = try f.date("created_at")
        createdBy = try f.string("created_by")
        metadata = try f.json("metadata")
        promotedAt = try f.optionalDate("promoted_at")
        demotedAt = try f.optionalDate("demoted_at")
    }
}

extension PaymentRow: JSONRow {
    public func write(to w: inout JSONWriter) {
        w.key("amount"); w.integer(amount)
        w.key("client_id"); w.id(clientID)
        w.key("content_version_id"); w.id(contentVersionID)
        w.key("created_at"); w.date(createdAt)
        w.key("failure_reason"); w.string(failureReason)
        w.key("id"); w.id(id)
        w.key("status"); w.raw(status)
        w.key("stripe_payment_intent_id"); w.string(stripePaymentIntentID)
        w.key("updated_at"); w.date(updatedAt)
    }

    public init(fields f: RowFields) throws {
        id = try f.uuid("id")
        clientID = try f.uuid("client_id")
        contentVersionID = try f.optionalUUID("content_version_id")
        stripePaymentIntentID = try f.string("stripe_payment_intent_id")
        amount = try f.integer("amount")
        status = try f.value("status")
        createdAt = try f.date("created_at")
        updatedAt = try f.date("updated_at")
        failureReason = try f.optionalString("failure_reason")
    }
}

extension VersionStatsRow: JSONRow {
    public func write(to w: inout JSONWriter) {
        w.key("client_id"); w.id(clientID)
        w.key("exposed"); w.bool(exposed)
        w.key("failed"); w.integer(Int64(failed))
        w.key("outcome"); w.raw(outcome)
        w.key("page_type"); w.raw(pageType)
        w.key("revenue"); w.integer(revenue)
        w.key("succeeded"); w.integer(Int64(succeeded))
        w.key("version_number"); w.integer(Int64(versionNumber))
    }

    public init(fields f: RowFields) throws {
        clientID = try f.uuid("client_id")
        pageType = try f.value("page_type")
        versionNumber = Int(try f.integer("version_number"))
        outcome = try f.optionalValue("outcome")
        exposed = try f.bool("exposed")
        succeeded = Int(try f.integer("succeeded"))
        failed = Int(try f.integer("failed"))
        revenue = try f.integer("revenue")
    }
}

extension PaymentStatsRow: JSONRow {
    public func write(to w: inout JSONWriter) {
        w.key("amount"); w.integer(amount)
        w.key("client_id"); w.id(clientID)
        w.key("status"); w.raw(status)
        w.key("version_id"); w.id(versionID)
    }

    public init(fields f: RowFields) throws {
        versionID = try f.optionalUUID("version_id")
        clientID = try f.uuid("client_id")
        status = try f.value("status")
        amount = try f.integer("amount")
    }
}

extension FunnelRow: JSONRow {
    public func write(to w: inout JSONWriter) {
        w.key("activated_at"); w.date(activatedAt)
        w.key("created_at"); w.date(createdAt)
        w.key("paid_at"); w.date(paidAt)
        w.key("token_issued_at"); w.date(tokenIssuedAt)
    }

    public init(fields f: RowFields) throws {
        createdAt = try f.date("created_at")
        tokenIssuedAt = try f.optionalDate("token_issued_at")
        activatedAt = try f.optionalDate("activated_at")
        paidAt = try f.optionalDate("paid_at")
    }
}

extension Projections.ProjectorState: JSONRow {
    func write(to w: inout JSONWriter) {
        w.key("checkpoint"); w.integer(Int64(checkpoint))
        w.key("fingerprint"); w.string(fingerprint)
        w.key("slot"); w.string(slot)
        w.key("version"); w.integer(Int64(version))
    }

    init(fields f: RowFields) throws {
        version = Int(try f.integer("version"))
        fingerprint = try f.string("fingerprint")
        guard let checkpoint = UInt64(exactly: try f.integer("checkpoint")) else {
            throw ProjectionError(.decodeFailed, "a stored ProjectorState has a negative checkpoint")
        }
        self.checkpoint = checkpoint
        slot = try f.string("slot")
        guard slot == "a" || slot == "b" else {
            throw ProjectionError(.decodeFailed, "a stored ProjectorState names slot \(slot.debugDescription), where the slots are a and b")
        }
    }
}
