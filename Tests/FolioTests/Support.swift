import Domain
import EventStore
import Folio
import Foundation
import LMDB
import SystemPackage
import Testing

/// A directory that exists for one test and is removed after it.
final class TemporaryDirectory {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("folio-test-\(UUID().uuidString.lowercased())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A fresh store in its own directory, with a fixed clock and seeded token draws.
func makeStore(_ directory: TemporaryDirectory, name: String = "store", noSync: Bool = false, seed: UInt64 = 7) throws -> Store {
    try Store(path: directory.path(name), options: Store.Options(
        environment: Environment.Options(unsafeNoSync: noSync), tokenSeed: seed
    ))
}

/// The whole log as exported JSON Lines (with hashes): equal text means an identical log.
func exportText(_ store: Store) throws -> String {
    let directory = try TemporaryDirectory()
    let file = directory.path("export.jsonl")
    let out = try FileDescriptor.create(file)
    try out.closeAfter { _ = try store.exportLog(to: out) }
    return try String(contentsOfFile: file, encoding: .utf8)
}

/// Runs `body` and expects a `FolioError` whose message contains `fragment`; the log must not change.
func expectRefusal(_ store: Store, containing fragment: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) throws {
    let before = try exportText(store)
    do {
        try body()
        Issue.record("expected a refusal containing \"\(fragment)\"", sourceLocation: sourceLocation)
    } catch let error as FolioError {
        #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
        #expect(!error.message.contains("\n"), sourceLocation: sourceLocation)
    }
    #expect(try exportText(store) == before, "a refused command changed the log", sourceLocation: sourceLocation)
}

/// A client created, given a token and activated.
func activeClient(_ store: Store, name: String = "Ada Lovelace") throws -> (id: UUID, token: String) {
    let client = try store.createClient(name: name, email: "ada@example.com")
    let issued = try store.issueToken(client: client.id.lowercased)
    let token = try #require(issued.activationToken).description
    _ = try store.activate(token: token)
    return (client.id, token)
}

/// The built products directory (where `folio` and `Worker` are), found from the test binary.
func productsDirectory() throws -> URL {
    var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Worker").path) { return url }
    }
    throw FolioError(.notFound, "the Worker executable was not found beside the tests; run `swift build --build-tests` first")
}

/// Runs a built executable and returns its exit status, standard output and standard error.
@discardableResult
func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], input: Data? = nil) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = try productsDirectory().appendingPathComponent(executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe(), inPipe = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inPipe
    try process.run()
    if let input { inPipe.fileHandleForWriting.write(input) }
    try inPipe.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// Writes `generator`'s history to a file in `directory`; its path.
func writeHistory(in directory: TemporaryDirectory, _ generator: HistoryGenerator) throws -> String {
    let file = directory.path("history-\(generator.seed)-\(generator.clients).jsonl")
    let out = try FileDescriptor.create(file)
    try out.closeAfter { _ = try generator.write(to: out) }
    return file
}
