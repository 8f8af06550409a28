import Domain
import Projections

/// A point of the log where an event was recorded: its position and when it was recorded.
public struct LogMark: Hashable, Sendable, CustomStringConvertible {
    public var position: UInt64
    /// When the event was recorded, in microseconds since 1970 (UTC).
    public var microseconds: Int64

    public init(position: UInt64, microseconds: Int64) {
        self.position = position
        self.microseconds = microseconds
    }

    /// Whether a read model as of `point` includes this event.
    public func isReached(by point: AsOf) -> Bool {
        switch point {
        case .position(let position): self.position <= position
        case .time(let limit): microseconds <= limit
        }
    }

    /// "at position 394 (2026-01-24T10:00:00.000000Z)".
    public var description: String { "at position \(position) (\(Timestamp.format(microseconds: microseconds)))" }
}
