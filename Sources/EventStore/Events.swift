#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The version a stream must be at for an append to go ahead.
public enum ExpectedVersion: Hashable, Sendable {
    /// Append whatever the stream's version.
    case any
    /// The stream must have no events yet.
    case noStream
    /// The stream's last event must have exactly this version (versions start at 1).
    case exactly(UInt64)
}

/// An event about to be appended: its identity, type, metadata and payload bytes.
public struct ProposedEvent: Hashable, Sendable {
    /// The idempotency key: an event already in the log under its id (the same stream, type,
    /// schema version and payload) is not appended again; another event under that id is refused.
    public var id: UUID
    public var type: String
    /// The payload's schema version, for upcasting when it is read back.
    public var schemaVersion: UInt16
    /// The payload as stored (Folio stores canonical JSON).
    public var payload: [UInt8] { didSet { compressed = nil } }
    /// The payload as storage format 2 stores it, made ahead by `compressPayload()`; else the
    /// append compresses it. Made from `payload`, it takes no part in equality.
    var compressed: Record.Compressed?
    public var actor: String
    public var correlationID: UUID?
    public var causationID: UUID?
    /// When the event happened, in microseconds since 1970-01-01T00:00:00Z; `nil` records the
    /// time of the append. An import passes the original, exactly (a `Date` holds microseconds
    /// exactly only until about 2255).
    public var recordedAtMicroseconds: Int64?
    /// `recordedAtMicroseconds` as a date.
    public var recordedAt: Date? {
        get { recordedAtMicroseconds.map { Date(timeIntervalSince1970: Double($0) / 1_000_000) } }
        set { recordedAtMicroseconds = newValue.map { Int64(($0.timeIntervalSince1970 * 1_000_000).rounded()) } }
    }
    /// The global position this event must land at; `nil` takes the next one. An import passes it.
    public var position: UInt64?

    public init(
        id: UUID, type: String, schemaVersion: UInt16 = 1, payload: [UInt8], actor: String = "admin",
        correlationID: UUID? = nil, causationID: UUID? = nil, recordedAt: Date? = nil, position: UInt64? = nil
    ) {
        self.id = id
        self.type = type
        self.schemaVersion = schemaVersion
        self.payload = payload
        self.actor = actor
        self.correlationID = correlationID
        self.causationID = causationID
        self.position = position
        self.recordedAt = recordedAt
    }

    /// An event recorded at `recordedAtMicroseconds` exactly.
    public init(
        id: UUID, type: String, schemaVersion: UInt16 = 1, payload: [UInt8], actor: String = "admin",
        correlationID: UUID? = nil, causationID: UUID? = nil, recordedAtMicroseconds: Int64, position: UInt64? = nil
    ) {
        self.init(id: id, type: type, schemaVersion: schemaVersion, payload: payload, actor: actor, correlationID: correlationID, causationID: causationID, position: position)
        self.recordedAtMicroseconds = recordedAtMicroseconds
    }

    /// Compresses the payload now, as storage format 2 stores it, so that the append need not:
    /// an import does it on the thread that parses its lines. A format-1 store ignores it.
    public mutating func compressPayload() {
        compressed = Record.compress(payload)
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.id == b.id && a.type == b.type && a.schemaVersion == b.schemaVersion && a.payload == b.payload
            && a.actor == b.actor && a.correlationID == b.correlationID && a.causationID == b.causationID
            && a.recordedAtMicroseconds == b.recordedAtMicroseconds && a.position == b.position
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(payload)
    }
}

/// An event as the log holds it: envelope and payload, copied out of the store.
public struct RecordedEvent: Hashable, Sendable {
    public var id: UUID
    /// The global position: 1, 2, 3… with no gaps.
    public var position: UInt64
    public var stream: String
    /// The event's version within its stream: 1, 2, 3…
    public var streamVersion: UInt64
    public var type: String
    public var schemaVersion: UInt16
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var recordedAtMicroseconds: Int64
    public var actor: String
    public var correlationID: UUID?
    public var causationID: UUID?
    public var payload: [UInt8]
    /// SHA-256 of the record, which includes `previousHash`: the log is a hash chain.
    public var hash: [UInt8]
    public var previousHash: [UInt8]

    public var recordedAt: Date { Date(timeIntervalSince1970: Double(recordedAtMicroseconds) / 1_000_000) }
}

/// What an append did.
public struct AppendResult: Hashable, Sendable {
    /// The global positions of the events, in order (the stored ones for duplicates).
    public var positions: [UInt64]
    /// The stream's version after the append.
    public var streamVersion: UInt64
    /// True when every event was already in the log and nothing was written.
    public var wasDuplicate: Bool
    /// When events given no time were recorded at the log's last time because it is later than
    /// this machine's clock (the log's times never go back): that time, and the clock's.
    public var aheadOfClock: ClockLag?

    /// A time events were recorded at, later than the clock's then, in microseconds since 1970.
    public struct ClockLag: Hashable, Sendable {
        public var recorded: Int64
        public var clock: Int64
    }
}
