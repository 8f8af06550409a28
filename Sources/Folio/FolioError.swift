import Domain
import EventStore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LMDB
import Projections

/// `count` and the noun, in the plural unless it is one: "1 client", "12 clients".
package func counted(_ count: some BinaryInteger, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}

/// An error of a Folio operation, shown to a person as one line.
///
/// Business refusals (a rule said no) are kept apart from technical failures (the store
/// could not do what was asked); both name the thing and the rule or problem.
public struct FolioError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A domain rule refused the command.
        public static let refused = Code("refused")
        /// An id, token or name that Folio does not know.
        public static let notFound = Code("not found")
        /// Input that is malformed (a bad UUID, JSON, file, line).
        public static let invalidInput = Code("invalid input")
        /// The store refused or failed (format, corruption, I/O).
        public static let store = Code("store")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A client id that names no client (rule 7).
    public static func unknownClient(_ id: UUID) -> FolioError {
        FolioError(.notFound, "client \(id.lowercased) does not exist (rule 7: unknown ids are refused)")
    }

    /// A client that was deleted (`at` that point of the log, when a read as of a point of
    /// the log needs to say it was by then): its rows are gone, its history is not.
    public static func deletedClient(_ id: UUID, at mark: LogMark? = nil) -> FolioError {
        FolioError(.notFound, "client \(id.lowercased) was deleted\(mark.map { " \($0), by that point of the log" } ?? ""): its history is kept (folio history, folio log --client) but it has no rows")
    }

    /// A content version of a client that was deleted (`at` that point of the log).
    public static func deletedVersion(_ id: UUID, client: UUID, at mark: LogMark? = nil) -> FolioError {
        FolioError(.notFound, "content version \(id.lowercased) belongs to client \(client.lowercased), which was deleted\(mark.map { " \($0), by that point of the log" } ?? ""): its history is kept (folio history) but it has no rows")
    }

    /// A content version id that names no version (rule 7).
    public static func unknownVersion(_ id: UUID) -> FolioError {
        FolioError(.notFound, "content version \(id.lowercased) does not exist (rule 7: unknown ids are refused)")
    }

    /// Whether a rule refused the request (as opposed to a technical failure).
    public var isRefusal: Bool { code == .refused || code == .notFound || code == .invalidInput }

    public var description: String { message }

    /// Wraps any error of the lower modules into one line for a person.
    public static func wrapping(_ error: any Error) -> FolioError {
        known(error) ?? FolioError(.store, "\(error)")
    }

    /// `wrapping(_:)` for an error of Folio or its lower modules (domain, log, LMDB); `nil` for
    /// any other, which its own module words.
    public static func known(_ error: any Error) -> FolioError? {
        switch error {
        case let error as FolioError: return error
        case let error as DomainError: return FolioError(kind(of: error.code), error.message)
        case let error as EventStoreError: return FolioError(kind(of: error.code), error.message)
        case let error as ProjectionError: return FolioError(kind(of: error.code), error.message)
        case let error as LMDBError:
            switch error.code {
            case .accessDenied: return FolioError(.store, "the store cannot be opened: permission denied (\(error.operation))")
            case .notADirectory: return FolioError(.store, "the store path is not a directory, or runs through a file (\(error.operation))")
            case .linkLoop: return FolioError(.store, "the store path runs through a loop of symbolic links (\(error.operation))")
            case .exists: return FolioError(.store, "the store path is taken by something that is not a directory, such as a link to nothing (\(error.operation))")
            case .noSpace: return FolioError(.store, "the disk is full: nothing was written (\(error.operation))")
            case .quotaExceeded: return FolioError(.store, "this user's disk quota is used up: nothing was written (\(error.operation))")
            case .fileTooLarge: return FolioError(.store, "the store's data file would grow past this process's file size limit (ulimit -f): nothing was written (\(error.operation))")
            case .readOnly: return FolioError(.store, "the store at \(error.operation) is read-only to this user (its files cannot be written): it can be queried, verified and exported, not written to")
            case .truncated: return FolioError(.store, "the store is damaged: \(error.operation), as an unfinished copy leaves it; restore it from a backup or an export")
            case .damagedPage: return FolioError(.store, "the store is damaged: \(error.operation); restore it from a backup or an export")
            case .damagedMeta:
                return FolioError(.store, "the store is damaged: \(error.operation); nothing was written, as a write could overwrite that last commit for good: copy data.mdb aside before anything else")
            case .staleLockFile:
                return FolioError(.store, "the store cannot be used now: \(error.operation), as a process stopped outright while it opened the store leaves it (one not Folio's, such as mdb_copy: Folio's own take turns); nothing was read or written: end every process that has the store open, then run the command again (the next one to open it alone sets the lock file up anew)")
            case .readersFull:
                return FolioError(.store, "the store is busy: as many processes as its reader table holds had it open for \(Environment.readerWait.components.seconds) seconds (\(error.operation)); try again, or run fewer commands on it at once")
            case .invalid where error.operation.hasPrefix("mdb_env_open "), .versionMismatch where error.operation.hasPrefix("mdb_env_open "):
                // Its first page does not say LMDB: another kind of file, or one damaged from its start.
                return FolioError(.store, "\(error.operation.dropFirst("mdb_env_open ".count)) is not a Folio store: its data file is not an LMDB file, or one of its first two pages (where LMDB says where its data is) is damaged; restore it from a backup or an export")
            case .foreignLockFile where error.operation.hasPrefix("mdb_env_open "):
                return FolioError(.store, "\(error.operation.dropFirst("mdb_env_open ".count)) is open in another process whose lock file (lock.mdb) this Folio's LMDB does not read, as another LMDB version writes it or as it was damaged; stop that process and try again (the next open after it makes the lock file anew)")
            default: return FolioError(.store, "the store failed: \(error)")
            }
        default: return nil
        }
    }

    /// An unknown or deleted client or version is not found; a value of the wrong form (a token,
    /// a page, an amount, a text, JSON, a payload) is invalid input; the rest are the rules' refusals.
    private static func kind(of code: DomainError.Code) -> Code {
        switch code {
        case .unknownClient, .unknownVersion, .clientDeleted: .notFound
        case .tokenFormat, .pageType, .outcome, .contentNotObject, .metadataNotObject, .jsonInvalid, .jsonTooLarge, .jsonTooDeep,
             .amount, .intent, .name, .email, .actor, .text, .unknownEventType, .invalidPayload:
            .invalidInput
        default: .refused
        }
    }

    /// The log's rules (an expected version, a position, an id) refuse; what it was given to
    /// store can be malformed; anything about what it holds is the store's.
    private static func kind(of code: EventStoreError.Code) -> Code {
        switch code {
        case .wrongExpectedVersion, .positionConflict, .idConflict, .notEmpty: .refused
        case .invalidStream, .invalidEvent, .timeWentBackwards: .invalidInput
        default: .store
        }
    }

    /// A projector named that Folio does not run is not found; anything else is the store's.
    private static func kind(of code: ProjectionError.Code) -> Code {
        code == .unknownProjector ? .notFound : .store
    }
}
