@testable import Folio
import Domain
import Testing

@Suite("The history generator")
struct GeneratorSpanTests {
    @Test("a generated history of any size ends by November 2026: clients are created within 240 days, closer together when they are many")
    func span() throws {
        let november = try #require(Timestamp.parse("2026-11-01T00:00:00Z"))
        let july = try #require(Timestamp.parse("2026-07-01T00:00:00Z"))
        for clients in [100, 4_000] {
            let planned = HistoryGenerator(seed: 3, clients: clients, contentBytes: 1_500...1_600).plan()
            #expect(try #require(planned.map(\.at).max()) < november, "\(clients) clients")
            let created = planned.compactMap { item -> Int64? in if case .clientCreated = item.event { item.at } else { nil } }
            #expect(created.count == clients)
            // Many clients are spread over the whole span, not bunched at its start.
            if clients > 3_000 { #expect(try #require(created.max()) > july) }
        }
    }
}

extension HistoryGenerator {
    /// Every event the generator writes, in its order, before rendering.
    func plan() -> [Planned] {
        var all: [Planned] = []
        forEachPlanned { all.append($0) }
        return all
    }
}
