#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A client's state as the write model stores it: the JSON of its `Codable` conformance (keys
/// sorted, absent optionals left out, dictionaries keyed by anything but strings as arrays of keys
/// and values in turn), written and read by Folio's own writer and parser rather than Foundation's
/// coders, for every client a command or an import touches. Ids are written in lower case, where
/// `JSONEncoder` wrote upper case; `JSONDecoder` and this read either (tested both ways).
extension ClientState {
    /// The state's JSON.
    public func encodedJSON() -> [UInt8] {
        var w = JSONWriter(capacity: 512)
        w.beginObject()
        if let clientID { w.key("clientID"); w.string(clientID.lowercased) }
        w.key("currentVersionByPage")
        w.array(currentVersionByPage.sorted { $0.key < $1.key }) { w, pair in
            w.string(pair.key.rawValue); w.bytes.append(UInt8(ascii: ",")); w.string(pair.value.lowercased)
        }
        if let currentVersionID { w.key("currentVersionID"); w.string(currentVersionID.lowercased) }
        if let email { w.key("email"); w.string(email) }
        w.key("exists"); w.bool(exists)
        w.key("isDeleted"); w.bool(isDeleted)
        w.key("lastVersionNumber")
        w.array(lastVersionNumber.sorted { $0.key < $1.key }) { w, pair in
            w.string(pair.key.rawValue); w.bytes.append(UInt8(ascii: ",")); w.integer(Int64(pair.value))
        }
        w.key("name"); w.string(name)
        w.key("payments")
        w.beginObject()
        for (intent, payment) in payments.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            w.key(text: intent)
            w.beginObject()
            w.key("amount"); w.integer(payment.amount)
            if let version = payment.contentVersionID { w.key("contentVersionID"); w.string(version.lowercased) }
            w.key("paymentID"); w.string(payment.paymentID.lowercased)
            w.key("status"); w.string(payment.status.rawValue)
            w.endObject()
        }
        w.endObject()
        w.key("retiredTokens")
        w.array(retiredTokens) { w, token in w.string(token.description) }
        w.key("status"); w.string(status.rawValue)
        if let token { w.key("token"); w.string(token.description) }
        w.key("versions")
        w.array(versions.sorted { $0.key.order < $1.key.order }) { w, pair in
            w.string(pair.key.lowercased)
            w.bytes.append(UInt8(ascii: ","))
            w.beginObject()
            w.key("isCurrent"); w.bool(pair.value.isCurrent)
            if let outcome = pair.value.outcome { w.key("outcome"); w.string(outcome.rawValue) }
            w.key("pageType"); w.string(pair.value.pageType.rawValue)
            w.key("versionNumber"); w.integer(Int64(pair.value.versionNumber))
            w.endObject()
        }
        w.endObject()
        return w.bytes
    }

    /// Reads a state's JSON, as `encodedJSON()` or `JSONEncoder` wrote it.
    ///
    /// - Throws: `invalidPayload` naming what is wrong.
    public init(json bytes: UnsafeRawBufferPointer) throws(DomainError) {
        func wrong(_ what: String) -> DomainError { DomainError(.invalidPayload, "a stored client state has \(what)") }
        guard case .object(let fields)? = try? JSONParser.parse(bytes) else { throw wrong("no JSON object") }
        func id(_ value: JSONValue?, _ key: String) throws(DomainError) -> UUID? {
            guard let value, value != .null else { return nil }
            guard case .string(let text) = value, let id = UUID(text: text) else { throw wrong("an unreadable \(key)") }
            return id
        }
        func text(_ value: JSONValue?, _ key: String) throws(DomainError) -> String? {
            guard let value, value != .null else { return nil }
            guard case .string(let text) = value else { throw wrong("an unreadable \(key)") }
            return text
        }
        func value<T: RawRepresentable<String>>(_ value: JSONValue?, _ key: String) throws(DomainError) -> T? {
            guard let raw = try text(value, key) else { return nil }
            guard let value = T(rawValue: raw) else { throw wrong("an unreadable \(key)") }
            return value
        }
        func token(_ value: JSONValue?, _ key: String) throws(DomainError) -> Token? {
            guard let raw = try text(value, key) else { return nil }
            guard let token = try? Token(raw) else { throw wrong("an unreadable \(key)") }
            return token
        }
        func flag(_ key: String) throws(DomainError) -> Bool {
            guard case .bool(let flag)? = fields[key] else { throw wrong("no \(key)") }
            return flag
        }
        func integer(_ value: JSONValue?, _ key: String) throws(DomainError) -> Int64 {
            guard case .integer(let number)? = value else { throw wrong("an unreadable \(key)") }
            return number
        }
        /// The key and value pairs of an array of keys and values in turn.
        func pairs(_ key: String) throws(DomainError) -> [(JSONValue, JSONValue)] {
            guard case .array(let items)? = fields[key], items.count % 2 == 0 else { throw wrong("an unreadable \(key)") }
            return stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) }
        }

        var state = ClientState()
        state.exists = try flag("exists")
        state.isDeleted = try flag("isDeleted")
        state.clientID = try id(fields["clientID"], "clientID")
        guard let name = try text(fields["name"], "name") else { throw wrong("no name") }
        state.name = name
        state.email = try text(fields["email"], "email")
        guard let status: ClientStatus = try value(fields["status"], "status") else { throw wrong("no status") }
        state.status = status
        state.token = try token(fields["token"], "token")
        guard case .array(let retired)? = fields["retiredTokens"] else { throw wrong("no retiredTokens") }
        for item in retired {
            guard let token = try token(item, "retiredTokens") else { throw wrong("an unreadable retiredTokens") }
            state.retiredTokens.append(token)
        }
        for (key, item) in try pairs("versions") {
            guard let version = try id(key, "versions"), case .object(let summary) = item,
                  let page: PageType = try value(summary["pageType"], "versions"),
                  case .bool(let isCurrent)? = summary["isCurrent"]
            else { throw wrong("an unreadable versions") }
            state.versions[version] = VersionSummary(
                pageType: page, versionNumber: Int(try integer(summary["versionNumber"], "versions")),
                outcome: try value(summary["outcome"], "versions"), isCurrent: isCurrent
            )
        }
        for (key, item) in try pairs("currentVersionByPage") {
            guard let page: PageType = try value(key, "currentVersionByPage"), let version = try id(item, "currentVersionByPage") else {
                throw wrong("an unreadable currentVersionByPage")
            }
            state.currentVersionByPage[page] = version
        }
        state.currentVersionID = try id(fields["currentVersionID"], "currentVersionID")
        for (key, item) in try pairs("lastVersionNumber") {
            guard let page: PageType = try value(key, "lastVersionNumber") else { throw wrong("an unreadable lastVersionNumber") }
            state.lastVersionNumber[page] = Int(try integer(item, "lastVersionNumber"))
        }
        guard case .object(let payments)? = fields["payments"] else { throw wrong("no payments") }
        for (intent, item) in payments {
            guard case .object(let payment) = item, let paymentID = try id(payment["paymentID"], "payments"),
                  let status: PaymentStatus = try value(payment["status"], "payments")
            else { throw wrong("an unreadable payments") }
            state.payments[intent] = PaymentSummary(
                paymentID: paymentID, status: status, amount: try integer(payment["amount"], "payments"),
                contentVersionID: try id(payment["contentVersionID"], "payments")
            )
        }
        self = state
    }
}

extension JSONWriter {
    /// Writes `items` as one array, each written by `body`. A dictionary keyed by anything but
    /// strings is one array of keys and values in turn: `body` writes a pair and the comma between.
    fileprivate mutating func array<Item>(_ items: [Item], _ body: (inout JSONWriter, Item) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for (index, item) in items.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            body(&self, item)
        }
        bytes.append(UInt8(ascii: "]"))
    }
}
