import ArgumentParser
import Domain
import EventStore
import Folio
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
import Projections
import Synchronization
import SystemPackage

/// Reads an option's whole number, written in digits alone (no sign, no spaces), for
/// `@Option(transform:)`: anything else is refused by what the option takes (`least` or more),
/// where the parser's own refusal says only that the value is invalid. A value under `least` is
/// its command's to refuse, with the reason.
func wholeNumber<T: FixedWidthInteger & Sendable>(atLeast least: T = 0) -> @Sendable (String) throws -> T {
    { text in
        guard text.isDigits else { throw ValidationError("it takes a whole number" + (least == 0 ? ", written in digits alone" : ", \(least) or more")) }
        guard let value = T(text) else { throw ValidationError("it takes a whole number up to \(T.max)") }
        return value
    }
}

/// `--store`: where the store lives.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store directory (an LMDB environment).", discussion: "Default: $FOLIO_STORE, else ./folio-store.", valueName: "path"), completion: .directory)
    var store: String?

    var path: String { store ?? Store.defaultPath }

    func validate() throws {
        guard store?.isEmpty != true else { throw ValidationError("--store takes a store directory's path, not an empty one") }
        // The store's path from the environment, as an argument is: a path that is not UTF-8
        // would name another directory.
        if store == nil, let variable = storeVariableNotUTF8() {
            throw ValidationError("FOLIO_STORE (\(variable.escapingControls())) is not valid UTF-8: Folio reads paths as UTF-8 text")
        }
    }

    /// Opens the store, rebuilding stale read models (unless not `rebuildingStale`) with a progress
    /// bar on a terminal. A write that waits for another process's (an import's, say) says so on a
    /// terminal for as long as it waits; the line is cleared when the wait is over. (A query as of
    /// a recent time waits too: `AsOfOptions.settle`.)
    ///
    /// A command interrupted meanwhile (Ctrl-C, `kill`) says what became of it (`CommandNote`): on
    /// a terminal, in place of that line; a write (`RecordsAction`) anywhere, and until its result
    /// is printed (`emit(_:done:)`), since its commit may come just before the signal.
    ///
    /// Only a command that puts something in a store (`creating`) makes one where there is none;
    /// any other is refused, so that a mistyped path is not answered by a new, empty store.
    func open(rebuildingStale: Bool = true, creating: Bool = false) throws -> Store {
        let path = self.path
        if !creating { try checkExists() } else { try checkCanMake() }
        FaultReport.install(storePath: path)
        let bar = Progress(title: "Rebuilding")
        defer { bar.finish() }
        // On a terminal, shown while it waits (a script's standard error gets only the outcome).
        let terminal = isatty(STDERR_FILENO) == 1
        if terminal { Interruption.handleSignals() }
        let note = CommandNote.shared
        // A query's note ends with its open; a write's once its result is printed.
        defer { if !note.isWriting { note.finish() } }
        let options = Store.Options(rebuildStaleProjections: rebuildingStale, waitingForWriter: { waiting in
            // Said before the line is shown, and after it is cleared: an interruption the moment
            // after either finds what it is to say.
            note.waiting(waiting)
            guard terminal else { return }
            // On one line of its own, short enough not to wrap (which the clearing could not undo).
            let text = "\r\u{1B}[2K" + (waiting ? "folio: waiting for another process's write to this store to finish…" : "")
            _ = try? FileDescriptor.standardError.writeAll(text.utf8)
        }, recordedAheadOfClock: { recorded, clock in
            // A second or more: a clock behind the log, or a history imported from the future.
            guard recorded - clock >= 1_000_000 else { return }
            warn("folio: recorded at \(Timestamp.format(microseconds: recorded)), the log's last time, as this machine's clock (\(Timestamp.format(microseconds: clock))) is behind it and the log's times never go back")
        }, unchanged: { why in
            warn("folio: " + why.escapingControls())
            // Said: an interruption from here on has nothing to add to it.
            note.finish()
        }, committingCommand: { try note.settleCommand($0) })
        return try Store(path: path, options: options, progress: { progress in
            // On a terminal, a rebuild of stale read models says which and why as it begins, as
            // `projections rebuild` does.
            if note.rebuilding(progress), terminal {
                let one = progress.projectors.count == 1
                warn("folio: rebuilding \(progress.projectors.joined(separator: ", ")) from the log first: this Folio's projector\(one ? "" : "s") differ\(one ? "s" : "") from what built the stored model\(one ? "" : "s"), or \(one ? "its record is" : "their records are") damaged (folio projections status, folio verify)")
            }
            bar.show(progress)
        }, committing: note.settleRebuild)
    }
}

/// Says on a terminal that a query on a store this user may only read folds its read models
/// from the log in memory (`Projections.read`), as they are not current and cannot be rebuilt
/// there: as a rebuild is said, so is this slower answer.
private func noteFoldingInMemory(_ store: Store) {
    guard store.isReadOnly, isatty(STDERR_FILENO) == 1,
          let behind = try? store.projections.status().filter({ $0.isStale || $0.lag > 0 }).map(\.name), !behind.isEmpty
    else { return }
    let one = behind.count == 1
    warn("folio: \(behind.joined(separator: ", ")) \(one ? "is" : "are") not current (folio projections status) and cannot be rebuilt, as this store is read-only to this user: each query folds the log in memory instead, which takes longer (a copy this user may write is rebuilt once)")
}

/// What an interruption (`Interruption`) says of the command under way, one note at a time:
/// - while it waits for another process's write, or rebuilds stale read models as the store
///   opens, that it was not carried out, and why;
/// - for a write, otherwise, that it was not carried out, until its commit, and from then until
///   its result is printed that it was, and whether it was stopped before printing it or as it
///   printed it. An interruption then first gives the result half a second to be printed
///   (`Interruption.Leftover.say(_:awaited:)`), and says nothing once it is.
///
/// Each change of note is one step, and a commit comes wholly before an interruption or wholly
/// after it, so the note said is always true. A process runs one command, hence one note.
final class CommandNote: Sendable {
    static let shared = CommandNote()

    private struct State {
        var leftover: Interruption.Leftover?
        var writing = false
        var waiting = false
        var rebuilding = false
        var carriedOut = false
        var printing = false

        var text: String? {
            if carriedOut {
                let when = printing ? "as it printed its result, which may be cut short" : "before it printed its result"
                return "the command was carried out (`folio log` shows what it recorded), but was stopped " + when
            }
            if rebuilding { return "the command was not carried out: the read models it was rebuilding first are as they were (a rebuild is switched in whole, or not at all)" }
            if waiting { return "the command was not carried out: it was waiting for another process's write to this store to finish" }
            return writing ? "the command was not carried out" : nil
        }
    }

    private let state = Mutex(State())

    /// A write command begins (`RecordsAction`, once its command line is read): it is not carried
    /// out from here until its commit.
    func beginWrite() { change { $0.writing = true } }

    /// Whether the command is a write, whose note stands until its result is printed.
    var isWriting: Bool { state.withLock { $0.writing } }

    /// Another process's write holds the store (`Store.Options.waitingForWriter`), or no longer does.
    func waiting(_ waiting: Bool) { change { $0.waiting = waiting } }

    /// A report of the rebuild of stale read models as the store opens; whether it is the first.
    func rebuilding(_ progress: RebuildProgress) -> Bool {
        guard progress.total > 0 else { return false }
        return state.withLock { state in
            guard !state.rebuilding else { return false }
            state.rebuilding = true
            Self.say(&state)
            return true
        }
    }

    /// Runs that rebuild's commit so that an interruption comes wholly before it or after it; a
    /// commit that fails (and is tried again) leaves the note standing.
    func settleRebuild(_ commit: () throws -> Void) throws {
        try settle(commit) { $0.rebuilding = false }
    }

    /// Runs a write command's commit so that an interruption comes wholly before it (not carried
    /// out) or after it (carried out).
    func settleCommand(_ commit: () throws -> Void) throws {
        try settle(commit) { $0.carriedOut = true }
    }

    /// The command's result is about to be printed (after its commit): an interruption from here
    /// on may cut it short. Waits for an interruption under way, which then ends the process.
    func printing() { change { $0.printing = $0.carriedOut } }

    /// The command's result is printed, or it ended otherwise: nothing more to say.
    func finish() { change { $0 = State(leftover: $0.leftover) } }

    private func settle(_ commit: () throws -> Void, then: (inout State) -> Void) throws {
        try state.withLock { state in
            guard let leftover = state.leftover else {
                try commit()
                then(&state)
                return
            }
            var after = state
            then(&after)
            if let text = after.text {
                try leftover.settle(commit, thenSaying: text, awaited: after.carriedOut)
            } else {
                try leftover.settle(commit)
                after.leftover = nil
            }
            state = after
        }
    }

    private func change(_ body: (inout State) -> Void) {
        state.withLock { state in
            body(&state)
            Self.say(&state)
        }
    }

    /// Names the state's text for an interruption, in place of what was named, in one step.
    private static func say(_ state: inout State) {
        switch (state.leftover, state.text) {
        case (nil, nil): break
        case let (nil, text?): state.leftover = Interruption.sayIfInterrupted(text)
        case let (leftover?, nil):
            leftover.forget()
            state.leftover = nil
        case let (leftover?, text?): leftover.say(text, awaited: state.carriedOut)
        }
    }
}

extension StoreOptions {
    /// Refuses a path where there is no store, or only an empty data file.
    func checkExists() throws {
        switch absence(at: path) {
        case nil: break
        case .nothing:
            throw FolioError(.notFound, "no store at \(path): `folio client create`, `folio import` or `folio demo` makes one")
        case let reason?:
            throw FolioError(.notFound, "no store at \(path): \(reason)")
        }
        try checkDataFile()
    }

    /// Refuses a path where a store's data is missing or empty, which a command that makes a
    /// store where there is none must not fill as a new one.
    func checkCanMake() throws {
        let missing = absence(at: path)
        switch missing {
        case .danglingDataFile?, .missingDataFile?: throw FolioError(.notFound, "no store at \(path): \(missing!)")
        default: break
        }
        try checkDataFile()
    }

    /// Refuses a data file of 0 bytes. LMDB would make a new store of it: a query would answer
    /// from that, and a write fill it, where a copy failed or a disk filled, hiding it. One that
    /// another process has open is a store it is making this moment, which LMDB waits for. A
    /// `data.mdb` that is no file (a directory, a named pipe, a device) is refused too, by what it
    /// is, and so is a `lock.mdb` that is no file or a link to nothing (LMDB would make the lock
    /// file where the link points, outside the store).
    func checkDataFile() throws {
        var status = stat()
        if stat(path + "/data.mdb", &status) == 0, status.st_mode & S_IFMT != S_IFREG {
            throw FolioError(.store, "\(path) is not a Folio store: its data file, data.mdb, is \(fileKind(status.st_mode)), where a store keeps its data in one file; move it away to make a store there")
        }
        let lockFile = path + "/lock.mdb"
        if lstat(lockFile, &status) == 0 {
            if stat(lockFile, &status) == 0 {
                if status.st_mode & S_IFMT != S_IFREG {
                    throw FolioError(.store, "\(path): its lock file, lock.mdb, is \(fileKind(status.st_mode)), where LMDB keeps a file; move it away (the next command makes a lock file anew)")
                }
            } else if errno == ENOENT {
                throw FolioError(.store, "\(path): its lock file, lock.mdb, is a symbolic link to \(linkTarget(lockFile) ?? "a missing file"), where nothing is, and LMDB would make it there, outside the store; remove the link (the next command makes a lock file anew)")
            }
        }
        guard !hasEmptyDataFile(at: path) || Store.isOpenElsewhere(at: path) else {
            throw FolioError(.store, "\(path) is not a Folio store: its data file is empty (0 bytes), as a failed copy, a full disk or a process ended while it made the store may leave one; restore it from a backup, or move it away to make a new store there")
        }
    }

    /// What a file of type `mode` (`st_mode`) is that is no regular file, in words.
    private func fileKind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFIFO: "a named pipe"
        case S_IFCHR, S_IFBLK: "a device"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
    }

    /// Walks every page of the store (`Store.checkPages(at:)`) before it is opened: a command
    /// that reads the whole log or writes whole read models then names a damaged page where it
    /// would stop at it with a memory fault. `reading`: the databases it needs sound, when not all.
    @discardableResult
    func checkPages(reading: Set<String>? = nil) throws -> PageCheckReport {
        try checkExists()
        return try Store.checkPages(at: path, reading: reading)
    }
}

/// `--format`.
struct FormatOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: table, json or csv.")
    var format: OutputFormat = .table
}

/// `--by`: who records a write, the event's actor (`admin` by default), which `folio log` shows,
/// and `folio history` beside each step it lists; a draft's is its `created_by` too.
struct ActorOptions: ParsableArguments {
    @Option(name: .customLong("by"), help: ArgumentHelp("Who records it: the event's actor, which folio log shows (a draft's created_by too).", valueName: "name"))
    var name: String = Store.defaultActor
}

extension OutputFormat: ExpressibleByArgument {}

/// `--columns` and `--limit` of a list command: which of its columns, in what order, and how many
/// of its rows, the first in its order. Its command checks the names (`check(_:of:)`), which only
/// it knows.
struct ListOptions: ParsableArguments {
    @Option(name: .customLong("columns"), help: ArgumentHelp("Only these columns, in this order, separated by commas (e.g. name,status).", valueName: "names"))
    var columnsText: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("At most this many rows, the first in the list's order.", valueName: "count"), transform: wholeNumber())
    var limit: Int?

    /// The columns `--columns` names, in its order (spaces around a name dropped: `name, status`);
    /// `nil` without it.
    var columns: [String]? {
        columnsText.map { text in
            text.split(separator: ",", omittingEmptySubsequences: false).map { part in
                var name = part
                while name.first == " " { name.removeFirst() }
                while name.last == " " { name.removeLast() }
                return String(name)
            }
        }
    }

    /// Refuses a name that is not one of `all`, a name given twice, and an empty one; `rows`
    /// names the list's rows in the refusal (`clients`).
    func check(_ all: [String], of rows: String) throws {
        guard let columns else { return }
        var seen = Set<String>()
        for name in columns {
            guard !name.isEmpty else {
                throw ValidationError("--columns takes column names separated by commas, such as name,status, not \(columnsText!.debugDescription)")
            }
            guard all.contains(name) else {
                throw ValidationError("--columns: \(rows) have no column \(name.debugDescription); theirs are \(all.joined(separator: ", "))")
            }
            guard seen.insert(name).inserted else { throw ValidationError("--columns names \(name) twice") }
        }
    }

    /// Prints rows of `all` columns, or only those `--columns` names.
    func printer(_ format: OutputFormat, columns all: [String]) -> RowPrinter {
        columns.map { RowPrinter(format: format, columns: $0, onlyColumns: true) } ?? RowPrinter(format: format, columns: all)
    }

    /// The first `--limit` rows.
    func cut<Row>(_ rows: [Row]) -> [Row] {
        guard let limit, limit < rows.count else { return rows }
        return Array(rows.prefix(limit))
    }
}

extension CompletionKind {
    /// The pages and the outcomes, which their options and arguments read through `ruled`
    /// rather than as `ExpressibleByArgument` values, offered by shell completion all the same.
    static let pages = CompletionKind.list(PageType.allCases.map(\.rawValue))
    static let outcomes = CompletionKind.list(Outcome.allCases.map(\.rawValue))
}

/// A page or an outcome read from the command line as the rules read it (`PageType.parse`,
/// `Outcome.parse`): one that is none of the values is refused naming rule 5, where the parser's
/// own refusal would only list them.
func ruled<T>(_ parse: @escaping @Sendable (String) throws(DomainError) -> T) -> @Sendable (String) throws -> T {
    { text in
        do throws(DomainError) { return try parse(text) } catch { throw ValidationError(error.message) }
    }
}
extension ClientStatus: ExpressibleByArgument {}
extension PaymentStatus: ExpressibleByArgument {}

/// `--as-of`: the read model as it stood at a position or a time.
struct AsOfOptions: ParsableArguments {
    @Option(name: .customLong("as-of"), parsing: .unconditional, help: ArgumentHelp("Show the read model as it stood at a log position, or at a time: 2026-11-25T09:30:00Z, to the microsecond at most, or with its offset from UTC (2026-11-25T10:30:00+01:00).", valueName: "position|timestamp"))
    var asOf: String?

    func parsed() throws -> AsOf? {
        guard let asOf else { return nil }
        // Digits alone: `UInt64(_:)` would take "+5" and "-0" too.
        if asOf.isDigits, let position = UInt64(asOf) { return .position(position) }
        if let microseconds = Self.time(asOf) { return .time(microseconds: microseconds) }
        if asOf.isDigits {
            throw ValidationError("--as-of \(asOf) is past the end of any log: a position is at most \(UInt64.max)")
        }
        throw ValidationError("--as-of takes a log position (a whole number) or a date and time to the microsecond at most, in UTC or with its offset, such as 2026-11-25T09:30:00Z or 2026-11-25T10:30:00.5+01:00, not \(asOf.debugDescription)")
    }

    /// An RFC 3339 time in microseconds since 1970 UTC: as the log writes times (`Z`), or with
    /// another offset from UTC (`+01:00`, `-05:30`), `T` and `Z` in either case.
    static func time(_ text: String) -> Int64? {
        var bytes = Array(text.utf8)
        if bytes.count > 10, bytes[10] == UInt8(ascii: "t") { bytes[10] = UInt8(ascii: "T") }
        if bytes.last == UInt8(ascii: "z") { bytes[bytes.count - 1] = UInt8(ascii: "Z") }
        if let time = bytes.withUnsafeBytes({ Timestamp.parse($0) }) { return time }
        // `±HH:MM` at the end: the same time read as UTC, less the offset.
        guard bytes.count > 6, bytes[bytes.count - 6] == UInt8(ascii: "+") || bytes[bytes.count - 6] == UInt8(ascii: "-"),
              bytes[bytes.count - 3] == UInt8(ascii: ":") else { return nil }
        let offset = bytes.suffix(5).filter { $0 != UInt8(ascii: ":") }
        guard offset.count == 4, offset.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        let digits = offset.map { Int64($0 - UInt8(ascii: "0")) }
        let hours = digits[0] * 10 + digits[1], minutes = digits[2] * 10 + digits[3]
        guard hours < 24, minutes < 60 else { return nil }
        let sign: Int64 = bytes[bytes.count - 6] == UInt8(ascii: "+") ? 1 : -1
        guard let local = (bytes.dropLast(6) + [UInt8(ascii: "Z")]).withUnsafeBytes({ Timestamp.parse($0) }) else { return nil }
        return local - sign * (hours * 3600 + minutes * 60) * 1_000_000
    }

    /// Runs `body` on the read model with the client `reference` names found in it: with
    /// `--as-of`, a token names the client whose token it was then.
    /// `also`: other clients whose rows `body` reads, as in `read(_:scope:_:)`.
    func read<T>(_ store: Store, client reference: String, also: [UUID] = [], _ body: (ReadModel, UUID) throws -> T) throws -> T {
        guard let point = try parsed() else {
            let id = try store.resolveClient(reference)
            return try read(store) { try body($0, id) }
        }
        // As of a point, only the client's own stream is folded (a token names one client ever),
        // found once the point is settled: a token issued by then is known by then.
        return try read(store, scope: [try store.clientEver(named: reference)].compactMap { $0 } + also) { model in
            try body(model, try store.resolveClient(reference, in: model, asOf: point))
        }
    }

    /// Why the client `id`, which the store knows, has no row in the read model read: it was
    /// deleted (by that point of the log, with `--as-of`), or not created yet at that point.
    func absentClient(_ id: UUID, in store: Store) throws -> FolioError {
        guard let point = try parsed() else { return .deletedClient(id) }
        return try store.absentClient(id, asOf: point)
    }

    /// Why the content version `id`, drafted by `owner`, has no row in the read model read: its
    /// client was deleted (by that point of the log, with `--as-of`), or it was not drafted yet.
    func absentVersion(_ id: UUID, owner: UUID, in store: Store) throws -> FolioError {
        guard let point = try parsed() else { return .deletedVersion(id, client: owner) }
        return try store.absentVersion(id, client: owner, asOf: point)
    }

    /// `read(_:client:_:)` for a listing: a client filter naming a client without a row (deleted,
    /// or not created yet as of `--as-of`) is refused, saying which, where the listing would print
    /// no rows as if the client had none.
    func list<Rows: Collection>(
        _ store: Store, client reference: String?, scope: [UUID]? = nil, _ body: (ReadModel, UUID?) throws -> Rows
    ) throws -> Rows {
        var absent: UUID?
        let rows = try read(store, client: reference, scope: scope) { model, id in
            let rows = try body(model, id)
            if rows.isEmpty, let id, try model.client(id: id) == nil { absent = id }
            return rows
        }
        if let absent { throw try absentClient(absent, in: store) }
        return rows
    }

    /// `read(_:client:_:)` for a client filter that may be absent. `scope` (as in
    /// `read(_:scope:_:)`): clients whose rows `body` reads, besides the one the filter names,
    /// when it reads only theirs.
    func read<T>(_ store: Store, client reference: String?, scope: [UUID]? = nil, _ body: (ReadModel, UUID?) throws -> T) throws -> T {
        guard let reference else { return try read(store, scope: scope) { try body($0, nil) } }
        return try read(store, client: reference, also: scope ?? []) { (model: ReadModel, id: UUID) in try body(model, id) }
    }

    /// Makes the state at `time` one that no write can change any more, so that the same question
    /// gets the same answer later. A write stamps its events with the time it began (never earlier
    /// than the last event's), before it commits: a time before the last event's is settled; a
    /// later one is settled once the clock has passed it and every write under way has ended,
    /// which this waits for (a write that begins after that stamps a later time). A time to come
    /// is refused. A store this user may only read has no writer's lock to wait on: there a write
    /// of its owner's under way may still add events before a time this close to now.
    private func settle(_ time: Int64, in store: Store) throws {
        let lastRecorded = try store.log.read { session in
            let head = try session.head()
            return head == 0 ? nil : try session.withRecord(at: head) { $0?.recordedAtMicroseconds }
        }
        guard time >= lastRecorded ?? .min else { return }
        let now = Timestamp.microseconds(Date())
        guard time <= now else {
            throw FolioError(.invalidInput, "--as-of \(asOf ?? "") is later than now (\(Timestamp.format(microseconds: now))): the store's state then is not known yet")
        }
        // Within the same microsecond, a write could still stamp `time` itself. (A clock set back
        // meanwhile ends the wait: that case is not settled, as the docs say.)
        while case let clock = Timestamp.microseconds(Date()), clock <= time, clock >= now { usleep(1) }
        try store.log.environment.waitForRunningWrite()
    }

    /// Runs `body` on the current read model, or on the one folded up to `--as-of`: with a
    /// `scope`, the clients whose rows alone `body` reads, their rows alone, from their own
    /// streams rather than the whole log.
    func read<T>(_ store: Store, scope: @autoclosure () throws -> [UUID]? = nil, _ body: (ReadModel) throws -> T) throws -> T {
        do {
            if let asOf = try parsed() {
                switch asOf {
                case .position(let position):
                    // The log only grows: a position past its end now names no state it had.
                    let head = try store.log.head()
                    guard position <= head else {
                        throw FolioError(.invalidInput, "--as-of \(position) is past the end of the log: its last position is \(head)")
                    }
                case .time(let time):
                    try settle(time, in: store)
                }
                // The scope is found after the wait above, as of what the log holds by then.
                return try body(try scope().map { try store.projections.model(asOf: asOf, clients: $0) } ?? store.projections.model(asOf: asOf))
            }
            noteFoldingInMemory(store)
            return try store.projections.read(body)
        } catch let error as ValidationError {
            throw error
        } catch {
            throw FolioError.wrapping(error)
        }
    }
}

/// Reads JSON given on the command line, naming the option on error.
func parseJSONObject(_ text: String?, option: String) throws -> JSONValue {
    guard let text else { return .object([:]) }
    // A JSON object starts with `{` (after any white space): `@` names a file instead, for
    // metadata larger than the system lets one argument be (about 128 KiB).
    guard text != "@" else { throw ValidationError("\(option) @ names no file: write @PATH, or @- for standard input") }
    let data = text.hasPrefix("@") ? try readJSONInput(String(text.dropFirst()), what: option) : Data(text.utf8)
    do {
        let value = try JSONValue.parse(data)
        guard case .object = value else { throw ValidationError("\(option) must be a JSON object, such as {\"source\":\"referral\"}") }
        return value
    } catch let error as DomainError {
        throw ValidationError("\(option) \(error.message)")
    }
}

/// Says, where standard input is a terminal, that `what` is read from it and how to end it: the
/// command would otherwise wait without a word for what a pipe usually gives it. A terminal takes
/// lines of at most 4,095 bytes, which a long page or history overruns: a file takes it whole.
func noteReadingTerminal(_ what: String) {
    guard isatty(STDIN_FILENO) == 1 else { return }
    warn("folio: reading \(what) from the terminal: type it, then press Ctrl-D on a line of its own (a long one is better given as a file)")
}

/// The bytes of a JSON input given as a file's path, or `-` for standard input: at most one byte
/// past the most a parse takes, which is enough to refuse it by its size.
func readJSONInput(_ path: String, what: String) throws -> Data {
    let limit = JSONLimits.default.maxInputBytes
    if path == "-" {
        noteReadingTerminal(what)
        do { return Data(try FileDescriptor.standardInput.readToEnd(limit: limit)) } catch {
            throw FolioError(.invalidInput, "cannot read \(what) from standard input: \(error)")
        }
    }
    let file = try FileDescriptor.openForReading(path)
    do { return Data(try file.closeAfter { try file.readToEnd(limit: limit) }) } catch {
        throw FolioError(.invalidInput, "cannot read \(path): \(error)")
    }
}
