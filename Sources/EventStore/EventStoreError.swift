/// A refusal or failure of the event log.
///
/// `code` names the rule; `message` is one line for a person, naming the thing and the rule.
public struct EventStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case wrongExpectedVersion, positionConflict, idConflict, invalidStream, invalidEvent
            case corruptRecord, corruptIndex, newerFormat, notAStore, timeWentBackwards, notEmpty
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The stream is not at the version the append expected.
        public static let wrongExpectedVersion = Code(.wrongExpectedVersion)
        /// The append named a position other than the next one.
        public static let positionConflict = Code(.positionConflict)
        /// Some, but not all, events of a batch are already in the log, or an event's id is
        /// another event's already in the log.
        public static let idConflict = Code(.idConflict)
        /// A stream name is empty, too long or holds a NUL byte.
        public static let invalidStream = Code(.invalidStream)
        /// An event's type, actor or payload breaks a limit of the format.
        public static let invalidEvent = Code(.invalidEvent)
        /// A stored record fails its checksum or breaks the hash chain.
        public static let corruptRecord = Code(.corruptRecord)
        /// An index of the log holds other entries than its records make.
        public static let corruptIndex = Code(.corruptIndex)
        /// The store was written by a newer storage format than this build reads.
        public static let newerFormat = Code(.newerFormat)
        /// The directory holds an LMDB environment that is not a Folio log.
        public static let notAStore = Code(.notAStore)
        /// An event's `recorded_at` lies before its predecessor's.
        public static let timeWentBackwards = Code(.timeWentBackwards)
        /// A bulk load was asked of a log that already holds events.
        public static let notEmpty = Code(.notEmpty)

        public var description: String { "\(value)" }
    }

    public let code: Code
    public let message: String
    /// The position the error is about, when there is one (a corrupt record, say).
    public let position: UInt64?

    public init(_ code: Code, _ message: String, position: UInt64? = nil) {
        self.code = code
        self.message = message
        self.position = position
    }

    public var description: String { message }
}

extension EventStoreError {
    /// The head mark (`mark`, as stored) does not name the log's last record, at `last` (0 for
    /// an empty log): the last record, or the mark, was changed or removed.
    /// - Parameter writing: said by a write, which then takes nothing.
    static func headMismatch(mark: [UInt8]?, last: UInt64, writing: Bool) -> EventStoreError {
        let named: String
        if let mark, mark.count == 8 + Record.zeroHash.count {
            let position = mark.prefix(8).withUnsafeBytes { UInt64(bigEndianBytes: $0) }
            named = position == last ? "names record \(last) with another hash than its own" : "names record \(position)"
        } else {
            named = mark.map { "is \($0.count) bytes, not \(8 + Record.zeroHash.count)" } ?? "is missing"
        }
        let end = last == 0 ? "the log holds no record" : "the log's last record is \(last)"
        let what = "the head mark \(named), where \(end) (the last record, or the mark, was changed or removed)"
        guard writing else { return EventStoreError(.corruptRecord, what, position: last == 0 ? nil : last) }
        return EventStoreError(
            .corruptRecord,
            "the store is damaged: \(what); nothing was written, as a write would take that record's place for good: \(restoring)",
            position: last == 0 ? nil : last
        )
    }

    /// The log's last record, at `position`, fails its checksum or its link: a write is refused,
    /// as the events after it would be lost to an export, which stops there.
    static func damagedHead(_ position: UInt64) -> EventStoreError {
        EventStoreError(
            .corruptRecord,
            "the store is damaged: the log's last record, \(position), fails its checksum or its link to the one before; nothing was written, as an export stops at that record and would leave out what came after: \(restoring)",
            position: position
        )
    }

    /// The way out of a log damaged at its end.
    static let restoring = "`folio verify` names the damage; restore the store from a backup, or import what `folio log` prints into a new store"

    /// The record at `position` fails its checksum, or (`chain`) does not link to the one before it.
    static func corrupt(_ position: UInt64, chain: Bool = false) -> EventStoreError {
        EventStoreError(
            .corruptRecord,
            chain
                ? "record \(position) does not link to record \(position - 1): the hash chain is broken there"
                : "record \(position) fails its checksum: the log is corrupt or was tampered with at that position",
            position: position
        )
    }
}
