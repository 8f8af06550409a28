#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// Writes text to standard output.
func emit(_ text: String) {
    _ = try? FileDescriptor.standardOutput.writeAll(text.utf8)
}

/// Writes one line to standard error.
func warn(_ text: String) {
    _ = try? FileDescriptor.standardError.writeAll((text + "\n").utf8)
}

/// Ends the process with `status`.
func terminate(_ status: Int32) -> Never {
    exit(status)
}
