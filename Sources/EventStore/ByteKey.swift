/// Bytes as a dictionary key, as LMDB tells keys apart: by their bytes, where `String` equates
/// canonically equivalent text.
///
/// `[UInt8]` is `Hashable` itself, but hashes element by element, a call into the hasher for each
/// byte; an import looks a stream's name up this way twice per event. This one hashes its bytes in
/// one pass.
public struct ByteKey: Hashable, Sendable {
    public var bytes: [UInt8]

    public init(_ text: String) { bytes = Array(text.utf8) }

    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// LMDB's order of keys: by bytes, a prefix first.
    public static func precedes(_ a: Self, _ b: Self) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
