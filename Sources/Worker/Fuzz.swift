import Domain
import EventStore
import Folio
import Foundation

/// A seeded mutation fuzzer for the JSON Lines import and the content parser.
///
/// Mutates seed inputs (valid lines and pages, plus the bad-input corpus) byte by byte — flips,
/// inserts, deletions, duplications, truncations, splices — and feeds each to the parsers and
/// the rules: `EventLine.parse`, `Event.decode`, `validate`, `JSONValue.parse`. A refusal is the
/// expected outcome; a crash is a finding. Before each input it writes the input to `current`,
/// so a harness that sees the process die keeps that file as a new corpus entry.
struct Fuzzer {
    var rng: SplitMix64
    let seeds: [[UInt8]]
    let current: String

    init(seed: UInt64, seeds: [[UInt8]], current: String) {
        rng = SplitMix64(seed: seed)
        self.seeds = seeds.isEmpty ? [Array("{}".utf8)] : seeds
        self.current = current
    }

    mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        let interesting: [UInt8] = Array("{}[]\",:\\0123456789-.eEtrufalsn \u{7f}".utf8) + [0, 0xff, 0xc3, 0x80]
        for _ in 0..<Int.random(in: 1...8, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<7, using: &rng) {
            case 0 where !bytes.isEmpty: bytes[position] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            case 1: bytes.insert(interesting.randomElement(using: &rng)!, at: position)
            case 2 where !bytes.isEmpty: bytes.remove(at: position)
            case 3 where !bytes.isEmpty:
                let end = min(bytes.count, position + Int.random(in: 1...64, using: &rng))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            case 4: bytes = Array(bytes.prefix(position))
            case 5:
                let other = seeds.randomElement(using: &rng)!
                let cut = other.isEmpty ? 0 : Int.random(in: 0..<other.count, using: &rng)
                bytes = Array(bytes.prefix(position)) + other[cut...]
            default:
                if !bytes.isEmpty { bytes[position] = interesting.randomElement(using: &rng)! }
            }
        }
        return bytes
    }

    /// Tries inputs for `seconds`, or exactly `inputs` of them when given (a count, unlike a time,
    /// tries the same inputs for the same seed on any machine, so a failure can be run again);
    /// returns how many were tried.
    mutating func run(seconds: Double, inputs: Int? = nil) -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        var tried = 0
        var state = ClientState.initial
        while inputs.map({ tried < $0 }) ?? (Date() < deadline) {
            let input = mutate(seeds.randomElement(using: &rng)!)
            _ = FileManager.default.createFile(atPath: current, contents: Data(input))
            if let line = try? EventLine.parse(input, number: 1),
               let event = try? Event.decode(type: line.type, schemaVersion: Int(line.schemaVersion), payload: line.data) {
                if (try? validate(event, state: state)) != nil { state = state.evolve(event) }
                _ = event.encodePayload()
            }
            if let value = try? JSONValue.parse(Data(input)) { _ = value.canonicalJSON() }
            tried += 1
        }
        try? FileManager.default.removeItem(atPath: current)
        return tried
    }
}

/// The fuzzer's seeds: every line and file under the given paths (directories are walked).
func fuzzSeeds(_ paths: [String]) -> [[UInt8]] {
    var seeds: [[UInt8]] = []
    for path in paths {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
        let files = isDirectory.boolValue
            ? (FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String }.map { path + "/" + $0 } ?? [])
            : [path]
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            let bytes = [UInt8](data)
            if file.hasSuffix(".jsonl") {
                seeds += bytes.split(separator: 10).prefix(200).map(Array.init)
            } else {
                seeds.append(bytes)
            }
        }
    }
    return seeds
}
