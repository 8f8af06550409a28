import EventStore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LMDB

/// Figures about a store: events by type, streams, sizes, head.
public struct StoreStatistics: Sendable {
    public var head: UInt64
    /// The store's storage format (see docs/storage-format.md).
    public var storageFormat: UInt32
    public var streams: Int
    public var eventsByType: [String: Int]
    /// Size of `data.mdb` on disk.
    public var fileBytes: Int
    /// Bytes in LMDB pages of the log's records, its indexes, the write side's indexes and the read models.
    public var logBytes: Int
    public var logIndexBytes: Int
    public var writeIndexBytes: Int
    public var readModelBytes: Int
    /// The rest of the file: pages LMDB keeps free for reuse (a rebuild frees its old slot's), and
    /// its own (meta pages, the list of free pages, the table of databases).
    public var otherBytes: Int { max(0, fileBytes - logBytes - logIndexBytes - writeIndexBytes - readModelBytes) }
}

/// What `folio verify` found walking a store's pages (`Store.checkPages(at:)`).
public typealias PageCheckReport = LMDB.PageCheckReport

extension Store {
    /// Counts and sizes of the store.
    public func statistics() throws -> StoreStatistics {
        do {
            let environment = log.environment
            let names = try environment.databaseNames()
            let databases = try names.map { try environment.database($0) }
            return try log.read { session in
                let sizes = try session.storageBytes()
                var writeIndexes = 0
                var readModels = 0
                for database in databases {
                    let bytes = try session.transaction.statistics(database).bytes
                    if database.name.hasPrefix("idx.") { writeIndexes += bytes }
                    if database.name.hasPrefix("rm.") || database.name == "projections" { readModels += bytes }
                }
                let file = fileSize(atPath: path + "/data.mdb") ?? 0
                return StoreStatistics(
                    head: try session.head(), storageFormat: log.format, streams: try session.streamCount(), eventsByType: try session.countsByType(),
                    fileBytes: file, logBytes: sizes.log, logIndexBytes: sizes.indexes, writeIndexBytes: writeIndexes,
                    readModelBytes: readModels
                )
            }
        } catch {
            throw FolioError.wrapping(error)
        }
    }

    /// Walks every page of the store at `path` (`Environment.checkPages()`), before anything
    /// else reads them: opening a store reads some, and a damaged page can stop a reader with a
    /// memory fault where this names it.
    ///
    /// - Parameter reading: the databases the caller reads, when it does not read them all:
    ///   damage elsewhere alone is not refused (`exportedDatabases`, for an export).
    /// - Returns: what the walk counted, when every page it needs checked out.
    /// - Throws: `FolioError` naming the first damaged page, and what can still be saved.
    public static func checkPages(at path: String, reading: Set<String>? = nil) throws -> PageCheckReport {
        let report: PageCheckReport
        do {
            report = try Environment.open(at: path).checkPages()
        } catch {
            throw FolioError.wrapping(error)
        }
        guard let first = report.damage.first else { return report }
        let databases = Set(report.damage.map { $0.database ?? "" })
        // LMDB's own pages (named "") are read by every command.
        if let reading, databases.isDisjoint(with: reading.union([""])) { return report }
        let more = report.damage.count == 1 ? "" : " (and \(report.damage.count - 1) more)"
        guard databases.isDisjoint(with: exportedDatabases) else {
            throw FolioError(.store, "the store is damaged: \(first)\(more); restore it from a backup or an export")
        }
        // The log's pages are sound, and an export reads nothing else; its records must be too.
        do {
            _ = try EventStore(path: path).read { try $0.verifyRecords() }
        } catch let error as EventStoreError where error.code == .corruptRecord {
            throw FolioError(.store, "the store is damaged: \(first)\(more); and \(error.message), where an export would stop: restore it from a backup or an export")
        }
        throw FolioError(.store, "the store is damaged: \(first)\(more); the log's pages and records are sound: `folio export FILE` and `folio import FILE --store NEW` carry every event to a new store")
    }

    /// What an export reads: LMDB's own pages and main database (which names the others, `""`),
    /// the log and the store's format mark (`EventStore`).
    public static let exportedDatabases: Set<String> = ["", "log", "meta"]

    /// Checks every record's checksum and the hash chain of the whole log, and that the log's
    /// indexes hold what its records make.
    ///
    /// - Returns: how many events were checked.
    /// - Throws: `FolioError` naming the first bad position or index entry.
    @discardableResult
    public func verify(progress: ((JobProgress) -> Void)? = nil) throws -> UInt64 {
        do {
            return try log.read { session in
                let head = Int(try session.head())
                return try session.verify { progress?(JobProgress(done: Int($0), total: head)) }
            }
        } catch let error as EventStoreError where error.code == .corruptRecord {
            throw FolioError(.store, "\(error.message): restore the store from a backup or an earlier export (an export of it now would stop there)")
        } catch let error as EventStoreError where error.code == .corruptIndex {
            // An export reads the log alone, by position.
            throw FolioError(.store, "\(error.message) (`folio export FILE` and `folio import FILE --store NEW` make a store whose indexes are whole)")
        } catch {
            throw FolioError.wrapping(error)
        }
    }
}
