import Domain
import Folio
import Foundation
import Testing

@Suite("Several processes on one store")
struct ConcurrencyTests {
    @Test("two processes drafting the same page get version numbers 1…n with no gap and no duplicate")
    func concurrentDrafts() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let client = try {
            let store = try Store(path: path)
            return try store.createClient(name: "Shared").id.lowercased
        }()
        let count = 25
        let processes = try (0..<2).map { _ in
            let process = Process()
            process.executableURL = try productsDirectory().appendingPathComponent("Worker")
            process.arguments = ["draft", "--store", path, "--client", client, "--count", String(count)]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            return (process, out)
        }
        var acknowledged: [Int] = []
        for (process, out) in processes {
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            acknowledged += text.split(separator: "\n").compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
        }
        #expect(acknowledged.sorted() == Array(1...(2 * count)))
        let store = try Store(path: path)
        let numbers = try store.projections.read { try $0.versions(client: UUID(uuidString: client)!, page: .agreement) }.map(\.versionNumber)
        #expect(numbers == Array(1...(2 * count)))
        #expect(try store.verify() == UInt64(1 + 2 * count))
    }

    @Test("two processes issuing tokens at once never issue the same token")
    func concurrentTokens() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        _ = try Store(path: path)
        let processes = try (0..<2).map { _ in
            let process = Process()
            process.executableURL = try productsDirectory().appendingPathComponent("Worker")
            process.arguments = ["tokens", "--store", path, "--clients", "20"]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            return (process, out)
        }
        var tokens: [String] = []
        for (process, out) in processes {
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            tokens += text.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
        }
        #expect(tokens.count == 40)
        #expect(Set(tokens).count == 40)
    }
}

@Suite("Several processes recording payments")
struct ConcurrentPaymentTests {
    @Test("two processes delivering the same payment webhooks at once record each payment once")
    func concurrentWebhooks() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store")
        let (client, _) = try activeClient(try Store(path: path))
        let count = 20
        let processes = try (0..<2).map { _ in
            let process = Process()
            process.executableURL = try productsDirectory().appendingPathComponent("Worker")
            process.arguments = ["pay", "--store", path, "--client", client.uuidString.lowercased(), "--count", String(count)]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            return (process, out)
        }
        var acknowledged: [String: Set<String>] = [:]
        for (process, out) in processes {
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ")
                acknowledged[String(parts[1]), default: []].insert(String(parts[0]))
            }
        }
        // Both deliveries of an intent answered with the same payment.
        #expect(acknowledged.count == count)
        #expect(acknowledged.values.allSatisfy { $0.count == 1 })
        let store = try Store(path: path)
        let payments = try store.projections.read { try $0.payments(client: client) }
        #expect(payments.count == count)
        #expect(try store.statistics().eventsByType["PaymentSucceeded"] == count)
        #expect(try store.verify() > 0)
    }
}
