#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Folio
import SystemPackage

/// Opens `/dev/null` as any of standard input, output and error that the process was started
/// without (`folio … >&-`). Left closed, the next file opened takes its number: LMDB's data file
/// would become standard output, and a printed row would be written over the store's first page.
/// - Returns: the descriptors it opened.
func openMissingStandardDescriptors() -> Set<Int32> {
    var opened: Set<Int32> = []
    for descriptor in Int32(0)...2 where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
        // `open` returns the lowest free number: this one, as the lower ones are open.
        let null = open("/dev/null", O_RDWR)
        if null != descriptor {
            if null >= 0 { close(null) }
            // Said on standard error when that is not the one missing (EX_SOFTWARE, 70).
            if descriptor != 2, fcntl(2, F_GETFD) != -1 {
                let name = ["input", "output"][Int(descriptor)]
                let line = "folio: started without standard \(name), and /dev/null cannot be opened to stand in for it: nothing was done\n"
                _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
            }
            exit(70)
        }
        opened.insert(descriptor)
    }
    return opened
}

/// Standard input, output or error that the process was started without, now `/dev/null`: made
/// once, first thing in `main`.
let missingStandardDescriptors = openMissingStandardDescriptors()

/// Writes text to standard output. A write that fails (a full disk, a closed file) ends the
/// process with an error, as any other error does: output that did not arrive is not a success.
/// `done`: the text is the outcome of a command that has written to the store (its row, what an
/// import or a rebuild did), which holds it by then: the error says so, so that the command is
/// not taken for refused and run again (a second `client create` makes a second client).
func emit(_ text: String, done: Bool = false) {
    do {
        // An interruption while the result is printed says it may be cut short; once it is
        // printed, it has nothing to add.
        if done { CommandNote.shared.printing() }
        try writing(to: standardOutput) { _ = try FileDescriptor.standardOutput.writeAll(text.utf8) }
        if done { CommandNote.shared.finish() }
    } catch {
        CommandNote.shared.finish()
        let message = FolioError.wrapping(error).message
        warn("folio: " + (done ? "the command was carried out and the store holds its result, but \(message)" : message))
        terminate(1)
    }
}

/// How errors name standard output as the target of a write.
let standardOutput = "standard output"

/// Runs `body`, which writes to `target` (a file's path, or `standardOutput`): a write that
/// fails is reported as one line naming the target and why.
@discardableResult
func writing<T>(to target: String, _ body: () throws -> T) throws -> T {
    // What goes to a standard output that was closed would be lost without a word.
    if target == standardOutput, missingStandardDescriptors.contains(STDOUT_FILENO) {
        throw FolioError(.invalidInput, "cannot write \(target): it was closed when folio started")
    }
    guard !target.isEmpty else { throw FolioError(.invalidInput, "cannot write a file: the path given is empty (- writes to standard output)") }
    do {
        return try body()
    } catch let error as Errno {
        throw FolioError(.invalidInput, "cannot write \(target): \(error)")
    } catch let error as OutputFileError {
        throw FolioError(.invalidInput, "cannot write \(target): \(error)")
    }
}

/// `text` as one word of a POSIX shell: as it is when it holds nothing a shell reads otherwise,
/// else in single quotes (a quote in it written `'\''`).
func shellWord(_ text: String) -> String {
    let plain = !text.isEmpty && text.utf8.allSatisfy { byte in
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "/._-+,:@%".utf8.contains(byte)
    }
    return plain ? text : "'" + text.replacing("'", with: #"'\''"#) + "'"
}

/// Writes one line to standard error.
func warn(_ text: String) {
    _ = try? FileDescriptor.standardError.writeAll((text + "\n").utf8)
}

/// Ends the process with `status`, or by a signal taken meanwhile (`Interruption`).
func terminate(_ status: Int32) -> Never {
    Interruption.yieldIfInterrupted()
    exit(status)
}

/// Why there is no store at a path: nothing there (where one can be made), or a path where none
/// can be made without changing it.
enum NoStore: Equatable, CustomStringConvertible {
    /// Nothing there, or a directory without a store's data file: a store can be made there.
    case nothing
    /// A symbolic link to nothing.
    case danglingLink
    /// A path through a file (`a/file/store`).
    case throughFile
    /// A loop of symbolic links.
    case linkLoop
    /// A directory whose data file is a symbolic link to nothing, `target`: the store's data is
    /// missing (moved, or on a disk not mounted), not a place to make a new store.
    case danglingDataFile(target: String)
    /// A directory with LMDB's lock file and no data file that no process is making: the store's
    /// data was moved or deleted, not a place to make a new store.
    case missingDataFile

    var description: String {
        switch self {
        case .nothing: "nothing there"
        case .danglingLink: "the path is a symbolic link to nothing"
        case .throughFile: "the path runs through a file"
        case .linkLoop: "the path runs through a loop of symbolic links"
        case .danglingDataFile(let target):
            "its data file, data.mdb, is a symbolic link to \(target), where nothing is; restore what it links to, or remove the link to make a new store there"
        case .missingDataFile:
            "it holds a store's lock file, lock.mdb, but not its data file, data.mdb, as a store whose data file was moved or deleted does; restore data.mdb (`folio import` restores an export there), or remove lock.mdb to make a new store there"
        }
    }
}

/// Why there is no store at `path` (`nil` when something is there to open). Anything else (a
/// file, a path that cannot be read) is left to opening the store to name.
func absence(at path: String) -> NoStore? {
    var status = stat()
    guard stat(path, &status) == 0 else {
        switch errno {
        case ENOENT: return lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFLNK ? .danglingLink : .nothing
        case ENOTDIR: return .throughFile
        case ELOOP: return .linkLoop
        default: return nil
        }
    }
    guard status.st_mode & S_IFMT == S_IFDIR else { return nil }
    let dataFile = path + "/data.mdb"
    guard stat(dataFile, &status) != 0, errno == ENOENT else { return nil }
    guard lstat(dataFile, &status) == 0, status.st_mode & S_IFMT == S_IFLNK else {
        // The lock file comes first: a process making the store this moment has one without a
        // data file yet, empty until LMDB holds its first byte and sizes it, then held. (A lock
        // file that is no file, or a link, is named by what it is: `checkDataFile()`.)
        guard lstat(path + "/lock.mdb", &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size > 0,
              !Store.isOpenElsewhere(at: path)
        else { return .nothing }
        return .missingDataFile
    }
    return .danglingDataFile(target: linkTarget(dataFile) ?? "a missing file")
}

/// What the symbolic link at `path` holds, as written in it, or `nil` when it cannot be read.
func linkTarget(_ path: String) -> String? {
    var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let length = readlink(path, &target, target.count - 1)
    return length > 0 ? String(decoding: target[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
}

/// `path` with its links and relative parts resolved, or as given if it cannot be.
func absolutePath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}

/// Whether the store's data file at `path` is there and empty: no store was ever written into it
/// (LMDB writes its first pages when it makes one), or it was cut off since.
func hasEmptyDataFile(at path: String) -> Bool {
    var status = stat()
    return stat(path + "/data.mdb", &status) == 0 && status.st_mode & S_IFMT == S_IFREG && status.st_size == 0
}

/// Where `folio export FILE` and `folio generate FILE` write, and how.
///
/// A regular file, or a name with nothing there, is replaced whole in one step (written beside it,
/// then renamed over it), through any symbolic links to it, and a replaced file keeps its
/// permissions (a new one gets `permissions`: an export's is readable by its owner only, as it
/// holds every client's data). Anything else already there (a device such as `/dev/null`, a named
/// pipe, a socket) is written into as it stands: renaming over it would put a regular file in its
/// place.
struct OutputFile {
    /// The file to replace, its links resolved, or the path to write through.
    var path: String
    /// A replaced file's permissions, or those a new file is made with (less the umask).
    var permissions: FilePermissions
    /// Whether a regular file is there, to be replaced keeping its permissions.
    var replacing = false
    /// Written through, not replaced.
    var inPlace = false

    /// - Throws: `Errno.isDirectory` for a directory, or a link to one: nothing is written.
    init(_ path: String, permissions: FilePermissions) throws {
        self.path = path
        self.permissions = permissions
        var status = stat()
        guard stat(path, &status) == 0 else {
            // A link to nothing: the file it names is made, beside it where the link is relative.
            if lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFLNK, let name = linkTarget(path) {
                let directory = path.contains("/") ? String(path[...path.lastIndex(of: "/")!]) : ""
                self.path = name.hasPrefix("/") ? name : directory + name
            }
            return
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            // The file it names, through links; a path that is not UTF-8 (under a working
            // directory named so) stays as given, which a string holds as it is.
            if let resolved = realpath(path, nil) {
                if let text = String(validatingCString: resolved) { self.path = text }
                free(resolved)
            }
            // A store's own file (its data file or lock file, however it is named) would be
            // replaced by the export.
            let target = self.path
            if let name = target.split(separator: "/").last, name == "data.mdb" || name == "lock.mdb" {
                let directory = target.contains("/") ? String(target[..<target.lastIndex(of: "/")!]) : "."
                var other = stat()
                let sibling = directory + "/" + (name == "data.mdb" ? "lock.mdb" : "data.mdb")
                if stat(sibling, &other) == 0 { throw OutputFileError.storeFile }
            }
            self.permissions = FilePermissions(rawValue: CModeT(status.st_mode & 0o7777))
            replacing = true
        case S_IFDIR:
            throw Errno.isDirectory
        default:
            inPlace = true
        }
    }

    /// Gives the file written to replace the target the target's permissions, which asking for
    /// them when it was created would not (they pass through the umask).
    func keepPermissions(on file: FileDescriptor) throws {
        guard fchmod(file.rawValue, permissions.rawValue) == 0 else { throw Errno(rawValue: errno) }
    }

    /// Writes the file through `body`, which returns what it wrote (events, for the report).
    ///
    /// A file to replace is written beside it (`FILE.partial-PID`, this process's own, so that two
    /// writing one name at once do not write into one file), synced, then put in its place in one
    /// step: a failed or interrupted write (Ctrl-C, `kill`) leaves an earlier file of that name as
    /// it was, and the `.partial-PID` file is removed. The writer holds a lock on it (`flock(2)`,
    /// which the kernel lets go when the process ends, however it ends), so that one left by a
    /// process killed outright is removed by the next write of that name (`removed` is told its
    /// path). Errors name `name`, as typed.
    func write(named name: String, removed: (String) -> Void = { _ in }, _ body: (FileDescriptor) throws -> Int) throws -> Int {
        if inPlace {
            ignoreBrokenPipes()
            let out = try writing(to: name) { try FileDescriptor.open(path, .writeOnly, options: [.create], permissions: permissions) }
            return try writing(to: name) { try out.closeAfter { try body(out) } }
        }
        let temporary = path + ".partial-\(getpid())"
        Interruption.handleSignals()
        // Named for removal only once made: what is under that name before is not this write's.
        let ((out, lock), leftover) = try Interruption.removeIfInterrupted(temporary, what: "the unfinished \(name)") {
            try writing(to: name) { try createPartial(temporary, named: name) }
        }
        defer { if lock >= 0 { close(lock) } }
        removeAbandonedPartials().forEach(removed)
        do {
            return try writing(to: name) {
                let count = try out.closeAfter {
                    if replacing { try keepPermissions(on: out) }
                    let count = try body(out)
                    try out.synchronize()
                    return count
                }
                try leftover.settle { try replace(path, with: temporary) }
                return count
            }
        } catch {
            leftover.discard()
            throw error
        }
    }
}

extension OutputFile {
    /// Makes the partial file `temporary` anew, and never through a link or into a file that is
    /// there: one of its name left by an earlier process of this number (a reboot, another
    /// container on a shared disk) is removed first if it is this user's and no process holds it.
    /// - Returns: the file, and a descriptor of its own holding the writer's lock until the file
    ///   has its name, past closing the file (-1 where the file system cannot lock: there nothing
    ///   is ever taken for abandoned, as the same lock fails).
    func createPartial(_ temporary: String, named name: String) throws -> (FileDescriptor, lock: Int32) {
        func create() throws -> FileDescriptor {
            try FileDescriptor.open(temporary, .writeOnly, options: [.create, .exclusiveCreate, .noFollow], permissions: permissions)
        }
        let out: FileDescriptor
        do {
            out = try create()
        } catch Errno.fileExists {
            guard removeUnheld(temporary, olderThan: 0) else {
                throw FolioError(.invalidInput, "cannot write \(name): \(temporary), where it would be written first, is there and is no file of this user's that no process holds (a link, another user's file, or a write running); remove it, or write another name")
            }
            out = try create()
        }
        let lock = dup(out.rawValue)
        // Only a lock held elsewhere refuses: the file is new, so another process took it meanwhile.
        if lock >= 0, flock(lock, LOCK_EX | LOCK_NB) != 0, errno == EWOULDBLOCK {
            close(lock)
            try? out.close()
            throw FolioError(.invalidInput, "cannot write \(name): another process took \(temporary), where it would be written first, as it was made; write again")
        }
        return (out, lock)
    }

    /// Removes the regular file at `candidate` if it is this user's, at least `age` seconds old
    /// or its time at least as far ahead of this clock (which was behind when the file was made,
    /// or has been set back since; any time when `age` is 0), and no process holds a lock on it,
    /// never following a link; whether it did.
    func removeUnheld(_ candidate: String, olderThan age: Int) -> Bool {
        let descriptor = open(candidate, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_uid == geteuid(), age == 0 || abs(time(nil) - status.st_mtim.tv_sec) >= age,
              flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return false }
        // Still the file locked, not one put under that name meanwhile.
        var named = stat()
        return lstat(candidate, &named) == 0 && named.st_ino == status.st_ino && named.st_dev == status.st_dev && unlink(candidate) == 0
    }

    /// Removes the `FILE.partial-PID` files beside the target, a minute old or more, that no
    /// process holds a lock on: left by a write of this name stopped outright (SIGKILL, a crash, a
    /// power cut). Only regular files under exactly that name are looked at, never through a
    /// link; their paths.
    func removeAbandonedPartials() -> [String] {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let prefix = (slash.map { String(path[path.index(after: $0)...]) } ?? path) + ".partial-"
        guard let listing = opendir(directory) else { return [] }
        defer { closedir(listing) }
        var removed: [String] = []
        while let entry = readdir(listing) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count)), pid > 0, String(pid) == name.dropFirst(prefix.count) else { continue }
            let candidate = slash == nil ? name : (directory == "/" ? "" : directory) + "/" + name
            // A minute old at least: a write that has made its file but not yet locked it is younger.
            guard pid != getpid(), removeUnheld(candidate, olderThan: 60) else { continue }
            removed.append(candidate)
        }
        return removed
    }
}

/// Why a file cannot be written as an output.
enum OutputFileError: Error, CustomStringConvertible {
    /// The file is a store's data file or lock file.
    case storeFile

    var description: String {
        switch self {
        case .storeFile: "it is a file of a store (its data or lock file): writing it would destroy that store"
        }
    }
}

/// `FOLIO_STORE` as it reads (with U+FFFD in place of what is not UTF-8) when it is set and not
/// UTF-8; else `nil`.
func storeVariableNotUTF8() -> String? {
    guard let store = getenv("FOLIO_STORE"), String(validatingCString: store) == nil else { return nil }
    return String(cString: store)
}

/// From here on, a file grown past this process's limit (`ulimit -f`) fails its write with EFBIG,
/// named as any failed write is, rather than ending the process without a word (SIGXFSZ, which
/// would leave an export's partial file behind).
func failWritesPastFileSizeLimit() {
    signal(SIGXFSZ, SIG_IGN)
}

/// A command that writes to a store: what it prints follows its commit, so a reader gone makes its
/// output fail with EPIPE, said in one line with the store's result, not end it by SIGPIPE.
protocol WritesToStore {}

/// A command that records one action (a write command: its events in one commit, then its row):
/// SIGINT, SIGTERM and SIGHUP are taken from when its command line is read, and say whether it
/// was carried out (`CommandNote`).
protocol RecordsAction: WritesToStore {}

extension ClientGroup.Create: RecordsAction {}
extension ClientGroup.Activate: RecordsAction {}
extension ClientGroup.Delete: RecordsAction {}
extension TokenGroup.Issue: RecordsAction {}
extension VersionGroup.Draft: RecordsAction {}
extension VersionGroup.Promote: RecordsAction {}
extension VersionGroup.OutcomeCommand: RecordsAction {}
extension PaymentGroup.Start: RecordsAction {}
extension PaymentGroup.Succeed: RecordsAction {}
extension PaymentGroup.Fail: RecordsAction {}
extension PaymentGroup.Cancel: RecordsAction {}
extension Import: WritesToStore {}
extension ProjectionsGroup.Rebuild: WritesToStore {}
extension Demo: WritesToStore {}

/// From here on, a reader that leaves early (`head` on a named pipe) makes a write fail with EPIPE,
/// named in one line, rather than end the process without a word.
func ignoreBrokenPipes() {
    signal(SIGPIPE, SIG_IGN)
}

/// Undoes `ignoreBrokenPipes()` for a command that turns out to write nothing to the store.
func restoreBrokenPipes() {
    signal(SIGPIPE, SIG_DFL)
}

/// Puts the file at `source` in place of `target` in one step (`rename(2)`): a reader sees the old
/// file or the new one, never a mix, and a directory at `target` is refused, not replaced. The
/// directory is synced after, so that the new name outlasts a power cut once this returns.
func replace(_ target: String, with source: String) throws {
    guard rename(source, target) == 0 else { throw Errno(rawValue: errno) }
    Store.synchronizeParent(of: target)
}
