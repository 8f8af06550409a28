#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Folio
import SystemPackage

/// Writes text to standard output. A write that fails (a full disk, a closed file) ends the
/// process with an error, as any other error does: output that did not arrive is not a success.
func emit(_ text: String) {
    do {
        try writing(to: standardOutput) { _ = try FileDescriptor.standardOutput.writeAll(text.utf8) }
    } catch {
        warn("folio: \(FolioError.wrapping(error).message)")
        terminate(1)
    }
}

/// How errors name standard output as the target of a write.
let standardOutput = "standard output"

/// Runs `body`, which writes to `target` (a file's path, or `standardOutput`): a write that
/// fails is reported as one line naming the target and why.
@discardableResult
func writing<T>(to target: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as Errno {
        throw FolioError(.invalidInput, "cannot write \(target): \(error)")
    }
}

/// Writes one line to standard error.
func warn(_ text: String) {
    _ = try? FileDescriptor.standardError.writeAll((text + "\n").utf8)
}

/// Ends the process with `status`.
func terminate(_ status: Int32) -> Never {
    exit(status)
}

/// Whether there is no store at `path`: nothing there, or a directory without a store's data
/// file. Anything else (a file, a path that cannot be read) is left to opening the store to name.
func noStore(at path: String) -> Bool {
    var status = stat()
    guard stat(path, &status) == 0 else { return errno == ENOENT }
    guard status.st_mode & S_IFMT == S_IFDIR else { return false }
    return stat(path + "/data.mdb", &status) != 0 && errno == ENOENT
}

/// Puts the file at `source` in place of `target` in one step (`rename(2)`): a reader sees the old
/// file or the new one, never a mix, and a directory at `target` is refused, not replaced.
func replace(_ target: String, with source: String) throws {
    guard rename(source, target) == 0 else { throw Errno(rawValue: errno) }
}
