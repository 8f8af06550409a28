import Domain
import EventStore
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
import LMDB
import Projections
import SystemPackage

/// An import's in-memory fold, handed to the thread that folds: only that thread touches it
/// until the import has drained the folding queue.
final class FoldBox: @unchecked Sendable {
    let fold: Projections.Fold
    init(_ fold: Projections.Fold) { self.fold = fold }

    /// Folds `events` in order; the first error stops it.
    func apply(_ events: [(Event, Envelope)]) -> (any Error)? {
        do {
            for (event, envelope) in events { try fold.apply(event, at: envelope) }
            return nil
        } catch {
            return error
        }
    }
}

/// A line of an import file as read, with its 1-based number.
struct RawLine: Sendable {
    var number: Int
    var bytes: [UInt8]
}

/// A line parsed, and its event decoded (in one pass when the line is as `export` writes it,
/// from the parsed payload otherwise), ahead of the rules.
struct ParsedLine: Sendable {
    var number: Int
    /// The line and its event (or why the payload does not decode, which the rules report after
    /// the line's position is checked), or why it is not a line (errors that name the line already).
    var parsed: Result<(line: EventLine, event: Result<Event, DomainError>), any Error>
    /// The line as it is appended, its payload already compressed here, off the writing thread.
    var proposed: ProposedEvent?
    /// Whether the line carries an export's `hash`: it is restored as it was stored, its actor
    /// and payment intent held to what an earlier Folio took (`checkStoredIntent`).
    var asStored = false
    /// What an export adds to the line besides its `hash`.
    var marks = ExportMarks()
    /// The SHA-256 of the line's event (`EventLine.eventDigest`), made here when the line carries
    /// a digest, which chains it to the line before (`ExportCompleteness`); for a line whose payload
    /// is written otherwise than canonically, also with its payload as written.
    var eventDigests: [[UInt8]] = []

    init(_ raw: RawLine) {
        number = raw.number
        if let (line, event, asStored, marks) = EventLine.parsePlain(raw.bytes, number: raw.number) {
            parsed = .success((line, .success(event)))
            self.asStored = asStored
            self.marks = marks
        } else {
            var stored = false
            var marks = ExportMarks()
            var digests: [[UInt8]] = []
            parsed = Result {
                let (line, payload, hasHash, lineMarks) = try EventLine.parseWithPayload(raw.bytes, number: raw.number)
                stored = hasHash
                marks = lineMarks
                if marks.digest != nil {
                    // A payload an earlier Folio stored otherwise than canonically (`-0`) is
                    // exported as stored, and its digest covers it so.
                    raw.bytes.withUnsafeBytes { buffer in
                        guard let range = (try? JSONParser.parseObject(buffer, rawKey: "data"))?.raw,
                              !buffer[range].elementsEqual(line.data)
                        else { return }
                        digests = [line.eventDigest(payload: UnsafeRawBufferPointer(rebasing: buffer[range]))]
                    }
                }
                let event = Result { () throws(DomainError) in
                    let type = try EventType.named(line.type), schemaVersion = Int(line.schemaVersion)
                    let event = try Event.decode(type: type, schemaVersion: schemaVersion, fields: payload)
                    // A line `export` wrote (it adds `hash`) is taken as stored: an earlier Folio
                    // imported payloads with other fields and keeps them, and its backup must
                    // restore. Any other line holds its type's fields and no other.
                    if !hasHash { try Event.checkKnownFields(type: type, schemaVersion: schemaVersion, fields: payload) }
                    return event
                }
                return (line, event)
            }
            asStored = stored
            self.marks = marks
            eventDigests = digests
        }
        if case .success((let line, _)) = parsed, marks.digest != nil {
            eventDigests.insert(line.eventDigest(), at: 0)
        }
        if case .success((let line, .success)) = parsed {
            proposed = line.proposed
            proposed?.compressPayload()
        }
    }
}

/// An import's check that its lines are one export's, whole: each line's digest is next in the
/// chain (`DigestChain`) after the line before it; every line carries a digest if the first does,
/// with the same last position as the first, which no line passes and the file's last line reaches.
struct ExportCompleteness {
    /// The first line's number and marks.
    private var first: (number: Int, marks: ExportMarks)?
    private var chain = DigestChain()

    /// What each refusal ends with: how to import such a file all the same.
    private static let asItStands = "to import the file as it now stands, remove every line's digest and last_position (\(ExportMarks.removal))"

    /// Checks a line, the next in file order, at `position` (its place in the log, already
    /// checked), whose event's digests are `eventDigests` when it carries a digest
    /// (`ParsedLine.eventDigests`). The messages follow the line's number, which the import puts first.
    mutating func check(_ marks: ExportMarks, eventDigests: [[UInt8]], number: Int, position: UInt64) throws {
        let first = self.first ?? (number, marks)
        self.first = first
        if (marks.digest == nil) != (first.marks.digest == nil) {
            let (this, firsts) = marks.digest == nil ? ("no digest", "one") : ("a digest", "none")
            throw FolioError(.invalidInput, "\(this), where line \(first.number) has \(firsts): export writes one on every line, so the file mixes an export's lines with others; \(Self.asItStands)")
        }
        guard marks.lastPosition == first.marks.lastPosition else {
            func named(_ last: UInt64?) -> String { last.map(String.init) ?? "missing" }
            throw FolioError(.invalidInput, "last_position is \(named(marks.lastPosition)), where line \(first.number)'s is \(named(first.marks.lastPosition)): export writes its last position on every line, so the file mixes lines of two exports, or an export's with others; \(Self.asItStands)")
        }
        if marks.digest != nil, marks.lastPosition == nil {
            throw FolioError(.invalidInput, "a digest without last_position: export writes both on every line, and without it a file cut short would not be seen; \(Self.asItStands)")
        }
        if let last = marks.lastPosition, position > last {
            throw FolioError(.invalidInput, "position \(position) is past \(last), the last position of the export its lines are from: lines were added after its end; \(Self.asItStands)")
        }
        if let digest = marks.digest, !chain.follows(digest, fromAnyOf: eventDigests) {
            throw FolioError(.invalidInput, "digest does not follow from the line's event and the digest of the line before it: the line changed after it was exported (edited, or damaged in a copy), or the line before it is from another export; \(Self.asItStands)")
        }
    }

    /// Checks that the file, whose last line `number` holds the event at `position`, reaches its
    /// export's last position.
    func checkEnd(at position: UInt64, line number: Int) throws {
        guard let last = first?.marks.lastPosition, position < last else { return }
        throw FolioError(.invalidInput, "line \(number): the file ends here, at position \(position), where its lines say their export ends at position \(last): it was cut short, \(counted(last - position, "event")) missing; export the store again, or \(Self.asItStands)")
    }
}

extension EventLine {
    /// The event as an import appends it: its id, position, time and payload kept.
    var proposed: ProposedEvent {
        ProposedEvent(
            id: id, type: type, schemaVersion: schemaVersion, payload: data, actor: actor,
            correlationID: correlationID, causationID: causationID,
            recordedAtMicroseconds: recordedAtMicroseconds, position: position
        )
    }
}

/// Progress of a long job: how far it is, of how much (when known).
public struct JobProgress: Sendable {
    public var done: Int
    public var total: Int?
}

/// Reads a file (or standard input) line by line without loading it whole, refusing a line
/// longer than `maximumLength` before it is buffered.
struct LineReader {
    private let file: FileDescriptor
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private let maximumLength: Int
    private(set) var lineNumber = 0
    private(set) var bytesRead = 0

    init(file: FileDescriptor, maximumLength: Int) {
        self.file = file
        self.maximumLength = maximumLength
    }

    /// The next line without its newline, or `nil` at the end. A UTF-8 byte order mark opening
    /// the first line is left out, as a content file's is (some editors write one).
    mutating func next() throws -> ArraySlice<UInt8>? {
        guard let line = try readLine() else { return nil }
        if lineNumber == 1, line.starts(with: [0xEF, 0xBB, 0xBF]) { return line.dropFirst(3) }
        return line
    }

    /// The index of the first newline in the buffer from `start` (`memchr`, which looks at many
    /// bytes at once, where `firstIndex(of:)` looked at one at a time).
    private func nextNewline() -> Int? {
        buffer.withUnsafeBytes { bytes in
            guard start < bytes.count, let base = bytes.baseAddress, let found = memchr(base + start, 10, bytes.count - start) else { return nil }
            return base.distance(to: UnsafeRawPointer(found))
        }
    }

    private mutating func readLine() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = nextNewline() {
                let line = buffer[start..<newline]
                start = newline + 1
                lineNumber += 1
                return line
            }
            if buffer.count - start > maximumLength {
                throw FolioError(.invalidInput, "line \(lineNumber + 1) is longer than \(maximumLength >> 20) MiB")
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = buffer[start...]
                start = buffer.count
                lineNumber += 1
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            let count = try file.read(appendingTo: &buffer, atMost: 1 << 20)
            if count == 0 { atEnd = true } else { bytesRead += count }
        }
    }
}

/// Copies everything `source` holds to a new file in the temporary directory, readable by its
/// owner only, and returns it open. The file's name is removed as soon as it is made: only the
/// returned descriptor holds it, so the kernel frees it when the import ends, however it ends
/// (a SIGKILL or a power cut leaves no copy of the input behind).
///
/// Copied line by line: a line the import would refuse as it stands (too long, or not a JSON
/// object), and a first line that is not an event's, are refused as they arrive, with the
/// import's message for them, rather than once the input ends (`yes | folio import -` would never
/// end, and `yes '{}'` would fill the disk first); the lines above such a line are not yet checked
/// against the rules, so an earlier line that breaks one is not the one named, as it is from a
/// file. `name` names the source in a read's failure.
private func spool(_ source: FileDescriptor, name: String) throws -> FileDescriptor {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("folio-import-\(UUID.random().lowercased).jsonl").path
    let out = try FileDescriptor.open(path, .readWrite, options: [.create, .exclusiveCreate], permissions: .ownerReadWrite)
    do {
        guard unlink(path) == 0 else { throw Errno(rawValue: errno) }
        var reader = LineReader(file: source, maximumLength: EventLine.maximumLength)
        var chunk: [UInt8] = []
        var checkedFirst = false
        while true {
            let next: ArraySlice<UInt8>?
            do { next = try reader.next() } catch let error as Errno {
                throw FolioError(.invalidInput, "cannot read \(name): \(error)")
            }
            guard let line = next else { break }
            if let first = line.first(where: { !isBlank($0) }), first != UInt8(ascii: "{") || !checkedFirst {
                checkedFirst = true
                if case .failure(let error) = ParsedLine(RawLine(number: reader.lineNumber, bytes: Array(line))).parsed { throw error }
            }
            chunk.append(contentsOf: line)
            chunk.append(10)
            if chunk.count >= 1 << 20 {
                try out.writeAll(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        try out.writeAll(chunk)
        return out
    } catch {
        try? out.close()
        throw error
    }
}

/// Whether an import line's byte is blank: a space, a tab or a carriage return. A line of them
/// alone is skipped.
private func isBlank(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 || byte == 13 }

/// The byte with an ASCII capital letter made small, any other byte as it is.
private func asciiLowercase(_ byte: UInt8) -> UInt8 { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte }

/// The name of an import's staging directory: `NAME.importing-UUID` beside the store's path, or
/// `.importing-UUID` inside the directory it names (`Store.importLog(from:intoNewStoreAt:)`).
enum StagingName {
    /// The name's start, before the UUID, for a store at `path`: `stage` is `importing` for a
    /// staging directory, `claiming` for one made but not yet locked and named.
    static func prefix(of path: String, inside: Bool, stage: String = "importing") -> String {
        if inside { return ".\(stage)-" }
        let name = path.utf8.lastIndex(of: UInt8(ascii: "/")).map { String(path[path.index(after: $0)...]) } ?? path
        return name + ".\(stage)-"
    }

    /// Whether `name` is such a name: `prefix` and a UUID as an import writes it (lowercase).
    static func matches(_ name: String, prefix: String) -> Bool {
        guard name.hasPrefix(prefix) else { return false }
        let id = name.dropFirst(prefix.count)
        return id.count == 36 && UUID(uuidString: String(id))?.lowercased == String(id)
    }
}

/// `path` without the slashes at its end (`/` stays as it is).
private func withoutTrailingSlashes(_ path: String) -> String {
    var path = Substring(path)
    while path.count > 1, path.hasSuffix("/") { path.removeLast() }
    return String(path)
}

/// What an import did.
public struct ImportReport: Hashable, Sendable {
    public var events: Int
    public var clients: Int
}

extension Store {
    /// Syncs the directory holding `path`, a file just renamed there, so that its name outlasts a
    /// power cut (`Environment.synchronizeParent(of:)`).
    public static func synchronizeParent(of path: String) {
        Environment.synchronizeParent(of: path)
    }

    /// Whether another process has the store at `path` open (`Environment.isOpenElsewhere(at:)`).
    public static func isOpenElsewhere(at path: String) -> Bool {
        Environment.isOpenElsewhere(at: path)
    }

    /// Whether `importLog(from:intoNewStoreAt:)` can make the store at `path`: nothing is there
    /// yet, or a directory (or a link to one) without a store's data file, empty or holding
    /// other files.
    public static func canStageImport(at path: String) -> Bool {
        let path = withoutTrailingSlashes(path)
        var status = stat()
        guard lstat(path, &status) == 0 else { return errno == ENOENT }
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else { return false }
        return lstat(path + "/data.mdb", &status) != 0 && errno == ENOENT
    }

    /// Imports an exported log (JSON Lines) into a new store at `path`, where there is nothing
    /// yet or a directory without a store (see `canStageImport(at:)`).
    ///
    /// The store is built aside and put in place in one step once the import has succeeded: a
    /// refused import leaves `path` as it was, and no other process sees the store half made.
    /// Where there is nothing, it is built beside `path` (`PATH.importing-…`) and the directory
    /// renamed into place; into a directory, it is built inside it (`PATH/.importing-…`)
    /// and its data file linked into the directory, which keeps its owner and permissions (if a
    /// store appeared there meanwhile, it is left alone and the import refused). An import
    /// interrupted by a signal that `Interruption` handles removes its staging directory. One
    /// killed outright (SIGKILL, a crash, a power cut) leaves it, and the next import into `path`
    /// removes it (`removeAbandonedImports(into:)`), telling `removedAbandoned` its path.
    public static func importLog(
        from file: String, intoNewStoreAt path: String, options: Options = Options(),
        progress: ((JobProgress) -> Void)? = nil, removedAbandoned: (String) -> Void = { _ in }
    ) throws -> ImportReport {
        // `restored/` is staged beside `restored`, not inside it.
        let path = withoutTrailingSlashes(path)
        guard canStageImport(at: path) else {
            throw FolioError(.refused, "cannot import into \(path): it is neither a new path nor a directory without a store")
        }
        var status = stat()
        let intoDirectory = lstat(path, &status) == 0
        removeAbandonedImports(into: path).forEach(removedAbandoned)
        let id = UUID.random().lowercased
        let staging = path + (intoDirectory ? "/.importing-" : ".importing-") + id
        let claiming = path + (intoDirectory ? "/.claiming-" : ".claiming-") + id
        let leftover = Interruption.removeIfInterrupted(staging, what: "the store being imported")
        let claim = Interruption.removeIfInterrupted(claiming, what: "the store being imported")
        do {
            // Locked before it bears its name, and held while the import runs (the kernel lets go
            // of it however the process ends): a staging directory no process holds is abandoned.
            let lock: Int32
            do {
                // Renamed to `staging` once locked, in one step with forgetting it (`leftover`
                // names it from then on), or removed.
                defer { claim.forget() }
                lock = try claim.settle { try claimStagingDirectory(staging, claiming: claiming) }
            }
            defer { close(lock) }
            let report = try Store(path: staging, options: options).importLog(from: file, progress: progress)
            if intoDirectory {
                // `link(2)` puts the synced data file in place under its own name and never
                // replaces one; LMDB makes the lock file when the store is next opened.
                try leftover.settle {
                    guard link(staging + "/data.mdb", path + "/data.mdb") == 0 else { throw cannotPlace(in: path) }
                    try? FileManager.default.removeItem(atPath: staging)
                }
                synchronizeDirectory(path)
            } else {
                try leftover.settle {
                    guard rename(staging, path) == 0 else { throw cannotPlace(in: path) }
                }
                synchronizeDirectory(path + "/..")
            }
            return report
        } catch {
            leftover.discard()
            throw error
        }
    }

    /// Removes what imports into `path` that were stopped outright (SIGKILL, a crash, a power cut)
    /// left of the stores they were building aside, and returns their paths.
    ///
    /// A staging directory is taken for abandoned only when no process holds its lock (a
    /// running import locks its own before giving it its name, and holds it until it ends), and it
    /// holds nothing but a store's two files under a name an import gives it. A directory an
    /// import made to claim one (`.claiming-…`, which it locks, then renames) is taken for
    /// abandoned when it is empty, unlocked and more than a minute old (or dated as far ahead of
    /// this clock, set back since): the import that made it was stopped in the instant before it
    /// locked or renamed it.
    public static func removeAbandonedImports(into path: String) -> [String] {
        let path = withoutTrailingSlashes(path)
        var status = stat()
        let inside = stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
        let directory: String
        if inside {
            directory = path
        } else if let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) {
            directory = slash == path.utf8.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let prefix = StagingName.prefix(of: path, inside: inside)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        func inDirectory(_ name: String) -> String { (directory == "/" ? "" : directory) + "/" + name }
        var removed: [String] = []
        for name in names.sorted() where StagingName.matches(name, prefix: prefix) {
            let staging = inDirectory(name)
            guard lstat(staging, &status) == 0, status.st_mode & S_IFMT == S_IFDIR,
                  let entries = try? FileManager.default.contentsOfDirectory(atPath: staging),
                  Set(entries).isSubset(of: ["data.mdb", "lock.mdb"]),
                  removeUnheld(staging, { (try? FileManager.default.removeItem(atPath: staging)) != nil })
            else { continue }
            removed.append(staging)
        }
        let claiming = StagingName.prefix(of: path, inside: inside, stage: "claiming")
        let now = time(nil)
        for name in names.sorted() where StagingName.matches(name, prefix: claiming) {
            let claim = inDirectory(name)
            // `rmdir(2)` removes nothing but an empty directory. A minute old, or a minute ahead
            // of this clock (set back since the claim was made).
            guard lstat(claim, &status) == 0, status.st_mode & S_IFMT == S_IFDIR, abs(now - status.st_mtim.tv_sec) > 60,
                  removeUnheld(claim, { rmdir(claim) == 0 })
            else { continue }
            removed.append(claim)
        }
        return removed
    }

    /// Runs `remove` on the directory at `path` (never through a link) while holding its lock,
    /// when no process holds it: what an import makes aside is locked for as long as it runs.
    /// - Returns: whether `remove` ran and removed it.
    private static func removeUnheld(_ path: String, _ remove: () -> Bool) -> Bool {
        let lock = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard lock >= 0 else { return false }
        defer { close(lock) }
        return flock(lock, LOCK_EX | LOCK_NB) == 0 && remove()
    }

    /// Makes `staging` locked: as `claiming` (made with its parents, as a store's are), locked,
    /// then renamed, so that no import looking for abandoned ones sees it unlocked.
    /// - Returns: the descriptor that holds the lock.
    private static func claimStagingDirectory(_ staging: String, claiming: String) throws -> Int32 {
        var cause: Int32 = mkdir(claiming, 0o700) == 0 ? 0 : errno
        if cause == ENOENT, let slash = claiming.lastIndex(of: "/") {
            let parent = String(claiming[..<slash])
            // Each directory made is synced into its parent, so that the store's name outlasts a
            // power cut once the import says it is done.
            try? Environment.makeDirectory(parent)
            cause = mkdir(claiming, 0o700) == 0 ? 0 : errno
        }
        // The cause is `mkdir`'s (permission denied, a read-only or full disk, a name too long).
        guard cause == 0 else { throw FolioError(.store, "cannot make \(claiming) to build the imported store in: \(Errno(rawValue: cause))") }
        let lock = open(claiming, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard lock >= 0 else { throw FolioError(.store, "cannot open \(claiming) to build the imported store in: \(Errno(rawValue: errno))") }
        // Where the file system cannot lock, nothing is ever taken for abandoned (the same lock
        // fails there). Held by another process, the claim was taken for abandoned while this one
        // stalled a minute between making and locking it, and is being removed.
        if flock(lock, LOCK_EX | LOCK_NB) != 0, errno == EWOULDBLOCK {
            close(lock)
            throw FolioError(.store, "cannot make \(staging) to build the imported store in: another import took \(claiming) for abandoned while this one stalled; run the import again")
        }
        guard rename(claiming, staging) == 0 else {
            let error = Errno(rawValue: errno)
            close(lock)
            _ = rmdir(claiming)
            throw FolioError(.store, "cannot make \(staging) to build the imported store in: \(error)")
        }
        return lock
    }

    /// Why the imported store could not be put at `path`, from `errno`: most often, another import
    /// put its store there first.
    private static func cannotPlace(in path: String) -> FolioError {
        let error = Errno(rawValue: errno)
        guard error == .fileExists || error == .directoryNotEmpty else {
            return FolioError(.store, "cannot put the imported store at \(path): \(error)")
        }
        return FolioError(.refused, "cannot put the imported store at \(path): a store appeared there meanwhile (another import?), which is left as it is; nothing was imported")
    }

    /// Why an import into a store that holds `head` events is refused.
    private static func notEmpty(_ head: UInt64, importing file: String, into path: String) -> FolioError {
        FolioError(.refused, "import needs an empty store: \(file == "-" ? "this one" : "the one at \(path)") already holds \(counted(head, "event"))")
    }

    /// Refuses an import of `file` (`-` for standard input) unless this store holds no events: the
    /// same refusal as `importLog(from:)`, for a caller to give before it asks for the input.
    public func requireEmptyForImport(from file: String) throws {
        let head = try log.head()
        guard head == 0 else { throw Self.notEmpty(head, importing: file, into: path) }
    }

    /// Appends an exported log (JSON Lines) to this store, which must be empty.
    ///
    /// Every line is checked against the format and the rules as if its command were run now;
    /// the first bad line refuses the whole file with its line number, and nothing is appended.
    /// The events go in one transaction (group commit) with one synced commit at the end, so a
    /// crash midway leaves the store empty. Ids, positions, times and payloads are kept.
    /// - Parameter committing: runs the commit it is given, for what is to change in one step
    ///   with it (what an interruption says of the import: nothing imported, until it commits).
    public func importLog(
        from path: String, progress: ((JobProgress) -> Void)? = nil, committing: WriteTransaction.CommitWrapper? = nil
    ) throws -> ImportReport {
        // Said before standard input is spooled, which waits for its end; checked again below, in
        // the transaction, which another process's write cannot come between.
        try requireEmptyForImport(from: path)
        // A file is opened once: a named pipe opened again would wait for a writer long gone.
        let opened = path == "-" ? FileDescriptor.standardInput : try FileDescriptor.openForReading(path)
        let file: FileDescriptor
        // Where the file's lines start: standard input redirected from a file may have been read into.
        var origin: Int64 = 0
        if !isRegularFile(opened) {
            // The transaction may start over when the map grows, and reads the file again: what
            // cannot be read twice (a pipe, a terminal, a device) is spooled to a file first.
            let name = path == "-" ? "standard input" : path
            defer { if path != "-" { try? opened.close() } }
            do {
                file = try spool(opened, name: name)
            } catch let error as FolioError {
                throw error
            } catch {
                throw FolioError(.invalidInput, "cannot spool \(name) to a file in \(FileManager.default.temporaryDirectory.path): \(error)")
            }
        } else {
            file = opened
            origin = try file.seek(offset: 0, from: .current)
        }
        // Standard input is left open, as it was found.
        defer { if file.rawValue != FileDescriptor.standardInput.rawValue { try? file.close() } }
        let total = fileSize(file).map { max(0, $0 - Int(origin)) }
        // The whole import is one transaction: a map that fills halfway makes it start over, so
        // the map is sized up front (a store takes about four bytes per byte of JSON Lines).
        if let total { log.environment.reserve(log.environment.usedBytes + 4 * total + (64 << 20)) }

        do {
            return try log.write { session in
                session.writer.aroundCommit = committing
                try file.seek(offset: origin, from: .start)
                let head = try session.head()
                guard head == 0 else { throw Self.notEmpty(head, importing: path, into: self.path) }
                // The store is empty: the log's and the write model's indexes are written in
                // key order at the end instead of inserted into event by event.
                try session.beginBulkLoad()
                let model = try WriteModel(loadingInto: session, indexes: indexes)
                // The read models are folded on a third thread, in file order, from the events
                // the rules accepted; the fold is only touched there until it is drained below.
                let fold = FoldBox(projections.startFold())
                let folder = OrderedWorker<[(Event, Envelope)], (any Error)?> { events in fold.apply(events) }
                var accepted: [(Event, Envelope)] = []
                func foldAccepted() throws {
                    guard !accepted.isEmpty else { return }
                    if let failure = folder.submit(accepted), let failure { throw failure }
                    accepted.removeAll(keepingCapacity: true)
                }
                var reader = LineReader(file: file, maximumLength: EventLine.maximumLength)
                var count = 0
                var clients = Set<UUID>()
                var completeness = ExportCompleteness()
                var lastLine = 0
                // Lines are parsed and their events decoded a batch ahead on another thread; the
                // rules and the appends run here, line by line in file order, so the first bad
                // line is still the one reported.
                let parser = OrderedWorker<[RawLine], [ParsedLine]> { lines in lines.map(ParsedLine.init) }
                func process(_ parsed: [ParsedLine]) throws {
                    for item in parsed {
                        let (line, decoded) = try item.parsed.get()
                        do {
                            if line.position == UInt64(count + 1) {
                                try completeness.check(item.marks, eventDigests: item.eventDigests, number: item.number, position: line.position)
                            }
                            let (client, event, envelope) = try importLine(
                                line, event: decoded, proposed: item.proposed ?? line.proposed, asStored: item.asStored,
                                expectedPosition: UInt64(count + 1), model: model, session: session
                            )
                            clients.insert(client)
                            accepted.append((event, envelope))
                        } catch let error as FolioError {
                            throw FolioError(error.code, "line \(item.number): \(error.message)")
                        } catch {
                            throw FolioError(.invalidInput, "line \(item.number): \(FolioError.wrapping(error).message)")
                        }
                        count += 1
                        lastLine = item.number
                        if count % 10_000 == 0 { progress?(JobProgress(done: reader.bytesRead, total: total)) }
                    }
                    try foldAccepted()
                }
                var batch: [RawLine] = []
                var readError: (any Error)?
                while true {
                    let raw: ArraySlice<UInt8>?
                    do { raw = try reader.next() } catch let error as Errno {
                        readError = FolioError(.invalidInput, "cannot read \(path == "-" ? "standard input" : path): \(error)")
                        break
                    } catch {
                        readError = error
                        break
                    }
                    guard let raw else { break }
                    if raw.allSatisfy(isBlank) { continue }
                    batch.append(RawLine(number: reader.lineNumber, bytes: Array(raw)))
                    if batch.count == 256 {
                        if let parsed = parser.submit(batch) { try process(parsed) }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty, let parsed = parser.submit(batch) { try process(parsed) }
                while let parsed = parser.next() { try process(parsed) }
                if let readError { throw readError }
                // An empty file (or one of blank lines) is more likely the wrong file, or a copy
                // cut off, than a backup: a store of nothing is not made from it.
                guard count > 0 else {
                    throw FolioError(.invalidInput, "\(path == "-" ? "standard input" : path) holds no events: an import takes an exported log, one event a line")
                }
                try completeness.checkEnd(at: UInt64(count), line: lastLine)
                try model.flush()
                try session.finishBulkLoad()
                while let failure = folder.next() { if let failure { throw failure } }
                try fold.fold.install(in: session)
                progress?(JobProgress(done: reader.bytesRead, total: total))
                return ImportReport(events: count, clients: clients.count)
            }
        } catch {
            throw FolioError.wrapping(error)
        }
    }

    /// Checks one line against the format and the rules and appends it; returns its client.
    private func importLine(
        _ line: EventLine, event decoded: Result<Event, DomainError>, proposed: ProposedEvent, asStored: Bool,
        expectedPosition: UInt64, model: WriteModel, session: WriteSession
    ) throws -> (client: UUID, event: Event, envelope: Envelope) {
        guard line.position == expectedPosition else {
            // A log starting again is most often a second file joined to the first.
            let again = line.position == 1 ? " (a log starts again here: two files joined?)" : ""
            throw FolioError(.invalidInput, "position is \(line.position) but must be \(expectedPosition): positions start at 1 and have no gaps\(again)")
        }
        let event: Event
        do {
            event = try decoded.get()
        } catch {
            throw FolioError.wrapping(error)
        }
        let client = event.clientID
        // The id in a stream's name reads in either case, as ids do; it is kept as Folio names it.
        let stream = Event.stream(for: client)
        let prefix = Event.streamPrefix
        guard line.stream == stream
            || line.stream.hasPrefix(prefix) && String(decoding: line.stream.utf8.dropFirst(prefix.utf8.count).map(asciiLowercase), as: UTF8.self) == client.lowercased
        else {
            throw FolioError(.invalidInput, "stream is \(line.stream) but a \(line.type) of client \(client.lowercased) belongs to \(stream)")
        }
        let (version, state) = try model.state(of: client)
        guard line.streamVersion == version + 1 else {
            throw FolioError(.invalidInput, "stream_version is \(line.streamVersion) but stream \(stream) is at version \(version): stream versions have no gaps")
        }
        try model.checkAcrossClients(event)
        do {
            // An export's line keeps the actor it was stored with (an earlier Folio took a blank one).
            if !asStored { try checkActor(line.actor) }
            // The envelope's actor is the schema's created_by: a draft names the one who made it
            // (an export's line is restored as stored, as an earlier Folio's import took it).
            // Compared as bytes, as they are stored: two Unicode forms of one name are two names.
            if !asStored, case .versionDrafted(let drafted) = event, !drafted.createdBy.utf8.elementsEqual(line.actor.utf8) {
                let form = drafted.createdBy == line.actor ? " (the same text in another Unicode form)" : ""
                throw FolioError(.invalidInput, "VersionDrafted's created_by is \(drafted.createdBy.debugDescription) but its actor is \(line.actor.debugDescription)\(form): a draft's created_by is the actor who recorded it")
            }
            try validate(event, state: state, asStored: asStored)
        } catch {
            throw FolioError.wrapping(error)
        }
        func twice() -> FolioError { FolioError(.invalidInput, "event id \(line.id.lowercased) appears twice: event ids are unique") }
        let result: AppendResult
        do {
            result = try session.append([proposed], to: stream, expected: .exactly(version))
        } catch let error as EventStoreError where error.code == .idConflict {
            throw twice()
        }
        guard !result.wasDuplicate else { throw twice() }
        try model.record([event], streamVersion: result.streamVersion)
        return (client, event, Envelope(position: line.position, recordedAt: proposed.recordedAt!, actor: line.actor, eventID: line.id))
    }

    /// Writes the whole log as JSON Lines to `file`, one event a line.
    ///
    /// - Returns: how many events were written.
    @discardableResult
    public func exportLog(to file: FileDescriptor, progress: ((JobProgress) -> Void)? = nil) throws -> Int {
        try writeLines(to: file, exporting: true, progress: progress) { session, body in
            // A last record lost or changed is found by the mark before a line is written: an
            // export without it would pass for a whole backup.
            do { try session.checkHeadMark() } catch let error as EventStoreError {
                throw FolioError(.store, "\(error.message): no backup was written, as it would pass for whole; `folio log` prints the records there are, which `folio import` takes into a new store")
            }
            try session.scan(from: 1, verify: true, body)
        }
    }

    /// Refuses a name that is no event type, listing the types there are.
    public static func checkEventType(_ name: String) throws {
        guard EventType(rawValue: name) == nil else { return }
        throw FolioError(.invalidInput, "unknown event type \(name.debugDescription): one of \(EventType.allCases.map(\.rawValue).joined(separator: ", "))")
    }

    /// Raw events as JSON Lines, filtered: after a position, of a type, of a client; at most `limit`.
    @discardableResult
    public func writeLog(
        to file: FileDescriptor, after: UInt64 = 0, limit: Int? = nil, type: String? = nil, client: String? = nil
    ) throws -> Int {
        let clientID = try client.map { try resolveClient($0) }
        if let type { try Self.checkEventType(type) }
        var remaining = limit ?? Int.max
        // No position comes after the largest one.
        guard remaining > 0, after < UInt64.max else { return 0 }
        return try writeLines(to: file) { session, body in
            let filtered: (RecordView) throws -> Bool = { view in
                if view.position <= after { return true }
                if let type, !view.hasType(type) { return true }
                guard try body(view) else { return false }
                remaining -= 1
                return remaining > 0
            }
            if let clientID {
                // The stream's records up to `after` are passed over in its index, not read.
                try session.scan(stream: Event.stream(for: clientID), after: after, filtered)
            } else if let type {
                try session.scan(type: type, after: after, filtered)
            } else {
                // Checked as export checks it: a record that fails its checksum or its link is
                // refused by position, never printed.
                try session.scan(from: after + 1, verify: true, filtered)
            }
        }
    }

    /// Writes the lines `scan` hands over; `exporting`: the whole log, each line marked with its
    /// digest and the last position (`ExportMarks`).
    private func writeLines(
        to file: FileDescriptor, exporting: Bool = false, progress: ((JobProgress) -> Void)? = nil,
        _ scan: (ReadSession, (RecordView) throws -> Bool) throws -> Void
    ) throws -> Int {
        do {
            return try log.read { session in
                let head = try session.head()
                var buffer: [UInt8] = []
                buffer.reserveCapacity(1 << 20)
                var count = 0
                var marking = exporting ? ExportMarking(lastPosition: head) : nil
                // How much of the buffer is whole lines.
                var whole = 0
                do {
                    try scan(session) { view in
                        try EventLine.render(view, into: &buffer, marking: &marking)
                        buffer.append(10)
                        count += 1
                        if buffer.count >= 1 << 20 {
                            try file.writeAll(buffer)
                            buffer.removeAll(keepingCapacity: true)
                            progress?(JobProgress(done: count, total: Int(head)))
                        }
                        whole = buffer.count
                        return true
                    }
                } catch where !(error is Errno) {
                    // Every whole line before a damaged record is written out: what `folio log`
                    // prints of a damaged store is what can be saved of it. The damage is what
                    // is said, whether or not that write succeeds.
                    buffer.removeSubrange(whole...)
                    _ = try? file.writeAll(buffer)
                    throw error
                }
                try file.writeAll(buffer)
                progress?(JobProgress(done: count, total: Int(head)))
                return count
            }
        } catch let error as Errno {
            // The file written to failed (a full disk, say): the caller knows which file it is.
            throw error
        } catch {
            throw FolioError.wrapping(error)
        }
    }
}
