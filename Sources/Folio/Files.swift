#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// Files that imports, exports and generated histories are read from and written to.
///
/// Folio reads and writes files through file descriptors rather than Foundation's `FileHandle`,
/// which would link all of swift-corelibs-foundation into `folio` and slow the start of every
/// command (`docs/performance.md`, W4).
extension FileDescriptor {
    /// Opens `path` for writing, emptied if it exists, created with `permissions` if not.
    public static func create(_ path: String, permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]) throws -> FileDescriptor {
        do {
            return try FileDescriptor.open(path, .writeOnly, options: [.create, .truncate], permissions: permissions)
        } catch {
            throw FolioError(.invalidInput, "cannot write \(path): \(error)")
        }
    }

    /// Opens `path` for reading; a directory is refused here rather than at the first read.
    public static func openForReading(_ path: String) throws -> FileDescriptor {
        guard !path.isEmpty else { throw FolioError(.invalidInput, "cannot read a file: the path given is empty") }
        let file: FileDescriptor
        do { file = try FileDescriptor.open(path, .readOnly) } catch {
            throw FolioError(.invalidInput, "cannot read \(path): \(error)")
        }
        if isDirectory(file) {
            try? file.close()
            throw FolioError(.invalidInput, "cannot read \(path): it is a directory")
        }
        return file
    }

    /// Refuses what `openForReading` refuses, without opening a named pipe, a socket or a
    /// device: opening one now would take what a writer sends, or wait for one.
    public static func checkReadable(_ path: String) throws {
        if let type = fileType(atPath: path), ![S_IFREG, S_IFDIR].contains(type) {
            guard access(path, R_OK) == 0 else { throw FolioError(.invalidInput, "cannot read \(path): \(Errno(rawValue: errno))") }
            return
        }
        try openForReading(path).close()
    }

    /// Writes the file's data to its disk before returning.
    public func synchronize() throws {
        guard fsync(rawValue) == 0 else { throw Errno(rawValue: errno) }
    }

    /// Reads everything left to read, or the first `limit` bytes and one more when there are
    /// more: endless input (`/dev/zero`, a stuck pipe) is not read on forever.
    public func readToEnd(limit: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count <= limit, try read(appendingTo: &bytes, atMost: Swift.min(1 << 16, limit - bytes.count) + 1) > 0 {}
        return bytes
    }

    /// Reads at most `count` bytes onto the end of `bytes`; returns how many were read, 0 at the end.
    /// When the read fails, `bytes` is as it was.
    public func read(appendingTo bytes: inout [UInt8], atMost count: Int) throws -> Int {
        let end = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: count))
        var read = 0
        defer { bytes.removeLast(count - read) }
        read = try bytes.withUnsafeMutableBytes { try self.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[end...])) }
        return read
    }
}

/// The status of the file at `path`, links followed (`stat(2)`), or `nil` when it cannot be read.
private func fileStatus(atPath path: String) -> stat? {
    var status = stat()
    return stat(path, &status) == 0 ? status : nil
}

/// The status of the open `file` (`fstat(2)`).
private func fileStatus(_ file: FileDescriptor) -> stat? {
    var status = stat()
    return fstat(file.rawValue, &status) == 0 ? status : nil
}

/// The type of the file at `path` (`S_IFREG`, `S_IFDIR`, `S_IFIFO`…), links followed.
func fileType(atPath path: String) -> mode_t? {
    fileStatus(atPath: path).map { $0.st_mode & S_IFMT }
}

/// The size in bytes of the file at `path`, or `nil` when it cannot be read. Through `stat(2)`:
/// FoundationEssentials' file attributes hold a size as `UInt`, which a cast to `Int` misses.
func fileSize(atPath path: String) -> Int? {
    fileStatus(atPath: path).map { Int($0.st_size) }
}

/// Whether `file` is a regular file: one that can be read again from its start.
func isRegularFile(_ file: FileDescriptor) -> Bool {
    fileStatus(file).map { $0.st_mode & S_IFMT == S_IFREG } ?? false
}

/// The size of the open `file`, if it can be told.
func fileSize(_ file: FileDescriptor) -> Int? {
    fileStatus(file).map { Int($0.st_size) }
}

/// Whether an open file is a directory.
private func isDirectory(_ file: FileDescriptor) -> Bool {
    fileStatus(file).map { $0.st_mode & S_IFMT == S_IFDIR } ?? false
}
