import Domain
import EventStore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SystemPackage

/// Writes realistic, valid histories of any size as exported JSON Lines, the same for the same seed.
///
/// The shape is the business's own: clients with activation tokens, four pages of content
/// versioned with notes and hypotheses (20–50 KB of headings, paragraphs, pricing and terms by
/// default), outcomes, activations and payments — mostly 50000 cents, some failures, retries,
/// cancellations and repeated webhook deliveries (which the rules turn into no-ops), and a few
/// deletions. Every event is produced by the domain's own `decide`, so the history keeps every rule.
public struct HistoryGenerator: Sendable {
    public var seed: UInt64
    public var clients: Int
    /// The size range of one version's content, in bytes of JSON.
    public var contentBytes: ClosedRange<Int>
    /// How many versions each page gets.
    public var versionsPerPage: ClosedRange<Int>
    /// When the first client is created.
    public var start: Date

    public init(
        seed: UInt64, clients: Int, contentBytes: ClosedRange<Int> = 20_000...50_000, versionsPerPage: ClosedRange<Int> = 1...5,
        start: Date = Date(timeIntervalSince1970: 1_767_603_600) // 2026-01-05T09:00:00Z
    ) {
        self.seed = seed
        self.clients = clients
        self.contentBytes = contentBytes
        self.versionsPerPage = versionsPerPage
        self.start = start
    }

    /// The days over which clients are created, at most: with lives of up to about two months
    /// after, a history from the default start ends by November 2026.
    public static let creationDays = 240

    /// One event before rendering: content is made when it is written, to keep memory small.
    struct Planned {
        var at: Int64
        var client: Int
        var event: Event
        var actor: String
        var contentSeed: UInt64
        var contentStep: Int
    }

    /// Writes the history to `file`, one event a line.
    ///
    /// - Returns: how many events were written.
    @discardableResult
    public func write(to file: FileDescriptor, progress: ((JobProgress) -> Void)? = nil) throws -> Int {
        var rng = SplitMix64(seed: seed ^ 0x5EED_0F_E7E2)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        var streamVersions: [UUID: UInt64] = [:]
        // One size per page, so that versions differ by their edits only; a new call to action
        // is up to 1 byte shorter or 9 longer than the first, kept within the sizes.
        let sizes = contentBytes.count > 10 ? (contentBytes.lowerBound + 1)...(contentBytes.upperBound - 9) : contentBytes
        var index = 0
        var lived = 0
        try forEachPlanned(lived: { lived = $0 }) { item in
            defer { index += 1 }
            var event = item.event
            if case .versionDrafted(var drafted) = event {
                let size = sizes.lowerBound + Int(item.contentSeed % UInt64(sizes.count))
                drafted.content = CanonicalJSON(PageWriter.content(page: drafted.pageType, seed: item.contentSeed, step: item.contentStep, bytes: size))
                event = .versionDrafted(drafted)
            }
            let client = event.clientID
            let version = (streamVersions[client] ?? 0) + 1
            streamVersions[client] = version
            let line = EventLine(
                id: rng.uuid(), position: UInt64(index + 1), stream: Event.stream(for: client), streamVersion: version,
                type: event.type.rawValue, schemaVersion: UInt16(event.type.currentSchemaVersion),
                recordedAtMicroseconds: item.at, actor: item.actor, correlationID: nil, causationID: nil,
                data: Array(event.encodePayload())
            )
            line.render(into: &buffer)
            buffer.append(10)
            if buffer.count >= 1 << 20 {
                try file.writeAll(buffer)
                buffer.removeAll(keepingCapacity: true)
                progress?(JobProgress(done: lived, total: clients))
            }
        }
        try file.writeAll(buffer)
        progress?(JobProgress(done: clients, total: clients))
        return index
    }

    /// Gives `body` every client's life through the domain's rules, event by event, merged in time
    /// order (by time, then by client, each client's events in the order it lived them), holding
    /// only the lives under way: a client's life is made once the merge reaches its creation,
    /// which no event of a client made later can come before, as clients are made one after
    /// another, in time order and at least a second apart. `lived` is told how many clients'
    /// events have all been given.
    func forEachPlanned(lived: (Int) -> Void = { _ in }, _ body: (Planned) throws -> Void) rethrows {
        var rng = SplitMix64(seed: seed)
        var issued = Set<Token>()
        var intents = Set<String>()
        var clientStart = Int64(start.timeIntervalSince1970 * 1_000_000)
        // Clients are created 10 minutes to 4 hours apart (7,500 s on average), closer together
        // when that would take more than `creationDays`: a history of any size then ends within
        // about `creationDays` and two months of its start, not years ahead of it (where a
        // command on its store would be stamped at its last time, the log's times never going back).
        let spacing = min(1, Double(Self.creationDays) * 86_400 / (Double(clients) * 7_500))
        /// The next client, its start and its generator's seed drawn, not yet lived.
        var next: (index: Int, start: Int64, seed: UInt64)?
        func draw(_ index: Int) {
            guard index < clients else { return next = nil }
            let seconds = Int64.random(in: 600...14_400, using: &rng)
            clientStart += (spacing == 1 ? seconds : max(1, Int64((Double(seconds) * spacing).rounded()))) * 1_000_000
            next = (index, clientStart, rng.next())
        }
        draw(0)
        // The lives under way, by their next event: its time, then the client.
        var lives = LifeQueue()
        var finished = 0
        while true {
            // A client yet to be made starts after every event before its creation is given.
            while let upcoming = next, lives.first.map({ $0.at > upcoming.start }) ?? true {
                var life = ClientLife(index: upcoming.index, at: upcoming.start, rng: SplitMix64(seed: upcoming.seed))
                life.live(generator: self, issued: &issued, intents: &intents)
                lives.insert(life.events)
                draw(upcoming.index + 1)
            }
            guard let (event, last) = lives.popFirst() else { return }
            try body(event)
            if last {
                finished += 1
                lived(finished)
            }
        }
    }
}

/// Clients' lives, each its events in order, kept in a binary heap by each one's next event:
/// its time, then its client.
private struct LifeQueue {
    private var heap: [(events: [HistoryGenerator.Planned], next: Int)] = []

    /// The next event of all.
    var first: HistoryGenerator.Planned? { heap.first.map { $0.events[$0.next] } }

    private func precedes(_ a: Int, _ b: Int) -> Bool {
        let x = heap[a].events[heap[a].next], y = heap[b].events[heap[b].next]
        return (x.at, x.client) < (y.at, y.client)
    }

    mutating func insert(_ events: [HistoryGenerator.Planned]) {
        guard !events.isEmpty else { return }
        heap.append((events, 0))
        var child = heap.count - 1
        while child > 0, precedes(child, (child - 1) / 2) {
            heap.swapAt(child, (child - 1) / 2)
            child = (child - 1) / 2
        }
    }

    /// Removes and returns the next event of all, and whether it is the last of its client's life.
    mutating func popFirst() -> (HistoryGenerator.Planned, last: Bool)? {
        guard let top = heap.first else { return nil }
        let event = top.events[top.next]
        let last = top.next + 1 == top.events.count
        if !last {
            heap[0].next += 1
        } else {
            heap.swapAt(0, heap.count - 1)
            heap.removeLast()
        }
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var least = parent
            if left < heap.count, precedes(left, least) { least = left }
            if right < heap.count, precedes(right, least) { least = right }
            guard least != parent else { return (event, last) }
            heap.swapAt(parent, least)
            parent = least
        }
    }
}

/// One client's life, decided event by event on its own state.
private struct ClientLife {
    let index: Int
    var at: Int64
    var rng: SplitMix64
    var state = ClientState.initial
    var events: [HistoryGenerator.Planned] = []
    let client: UUID

    init(index: Int, at: Int64, rng: SplitMix64) {
        self.index = index
        self.at = at
        self.rng = rng
        self.client = self.rng.uuid()
    }

    static let admins = ["admin", "maria", "jonas", "admin", "priya"]

    mutating func wait(minutes: ClosedRange<Int64>) {
        at += Int64.random(in: minutes, using: &rng) * 60_000_000
    }

    @discardableResult
    mutating func run(_ command: Command, actor: String = "admin", contentSeed: UInt64 = 0, step: Int = 0) -> Bool {
        guard let produced = try? decide(command, state: state) else { return false }
        for event in produced {
            state = state.evolve(event)
            events.append(.init(at: at, client: index, event: event, actor: actor, contentSeed: contentSeed, contentStep: step))
        }
        return !produced.isEmpty
    }

    mutating func live(generator: HistoryGenerator, issued: inout Set<Token>, intents: inout Set<String>) {
        let (name, email) = People.person(&rng)
        let metadata: JSONValue = .object([
            "source": .string(["referral", "website", "partner", "event"].randomElement(using: &rng)!),
            "segment": .string(["solo", "studio", "agency"].randomElement(using: &rng)!),
        ])
        run(.createClient(clientID: client, name: name, email: email, metadata: metadata))

        func issue(_ life: inout ClientLife) -> Bool {
            guard let token = try? Token.draw(issuedCount: issued.count, isIssued: { issued.contains($0) }, using: &life.rng) else { return false }
            issued.insert(token)
            life.wait(minutes: 5...240)
            return life.run(.issueToken(clientID: life.client, token: token))
        }
        let hasToken = issue(&self)
        if hasToken && Int.random(in: 0..<20, using: &rng) == 0 { _ = issue(&self) }

        // Content: each page gets its versions, drafted, mostly promoted, judged later.
        var current: [PageType: UUID] = [:]
        for page in PageType.allCases {
            let count = Int.random(in: generator.versionsPerPage, using: &rng)
            let contentSeed = rng.next()
            for step in 0..<count {
                wait(minutes: 30...2_880)
                let version = rng.uuid()
                let author = Self.admins.randomElement(using: &rng)!
                let reason = Notes.reason(page: page, step: step, rng: &rng)
                run(
                    .draftVersion(
                        clientID: client, versionID: version, pageType: page, content: CanonicalJSON(.object([:])),
                        iterationNotes: reason.notes, hypothesis: reason.hypothesis, createdBy: author,
                        metadata: .object(["experiment": .string("\(page.rawValue)-\(step + 1)")])
                    ),
                    actor: author, contentSeed: contentSeed, step: step
                )
                if step == 0 || Int.random(in: 0..<10, using: &rng) < 8 {
                    if let previous = current[page] {
                        wait(minutes: 60...4_320)
                        let outcome: Outcome = Int.random(in: 0..<3, using: &rng) == 0 ? .success : .failure
                        run(.recordOutcome(clientID: client, versionID: previous, outcome: outcome, notes: Notes.outcome(outcome, rng: &rng)), actor: author)
                    }
                    wait(minutes: 5...120)
                    run(.promoteVersion(clientID: client, versionID: version), actor: author)
                    current[page] = version
                }
            }
        }

        guard hasToken, let token = state.token else { return }
        wait(minutes: 60...10_080)
        guard Int.random(in: 0..<100, using: &rng) < 85 else { return }
        run(.activate(clientID: client, token: token))
        if Int.random(in: 0..<10, using: &rng) == 0 { run(.activate(clientID: client, token: token)) } // a second click: no-op

        func intent(_ life: inout ClientLife) -> String {
            while true {
                let id = "pi_" + String((0..<24).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".randomElement(using: &life.rng)! })
                if intents.insert(id).inserted { return id }
            }
        }
        let amount: Int64 = Int.random(in: 0..<10, using: &rng) == 0 ? 25_000 : 50_000
        let roll = Int.random(in: 0..<100, using: &rng)
        guard roll < 90 else { return }
        let first = intent(&self)
        wait(minutes: 10...2_880)
        run(.payment(.start, clientID: client, paymentID: rng.uuid(), intent: first, amount: amount, contentVersionID: nil, reason: nil))
        wait(minutes: 1...30)
        if roll < 70 {
            run(.payment(.succeed, clientID: client, paymentID: rng.uuid(), intent: first, amount: amount, contentVersionID: nil, reason: nil))
            if roll < 15 { // the webhook delivered twice: the rules make it a no-op
                run(.payment(.succeed, clientID: client, paymentID: rng.uuid(), intent: first, amount: amount, contentVersionID: nil, reason: nil))
            }
        } else if roll < 82 {
            run(.payment(.fail, clientID: client, paymentID: rng.uuid(), intent: first, amount: amount, contentVersionID: nil, reason: ["card_declined", "insufficient_funds", "expired_card"].randomElement(using: &rng)))
            if roll < 78 {
                wait(minutes: 60...4_320)
                let retry = intent(&self)
                run(.payment(.start, clientID: client, paymentID: rng.uuid(), intent: retry, amount: amount, contentVersionID: nil, reason: nil))
                wait(minutes: 1...30)
                run(.payment(.succeed, clientID: client, paymentID: rng.uuid(), intent: retry, amount: amount, contentVersionID: nil, reason: nil))
            }
        } else {
            run(.payment(.cancel, clientID: client, paymentID: rng.uuid(), intent: first, amount: amount, contentVersionID: nil, reason: nil))
        }
        if Int.random(in: 0..<50, using: &rng) == 0 {
            wait(minutes: 1_440...20_160)
            run(.deleteClient(clientID: client))
        }
    }
}

extension SplitMix64 {
    /// A version-4 UUID from this generator.
    mutating func uuid() -> UUID {
        var bytes = (next(), next())
        return withUnsafeMutableBytes(of: &bytes) { raw in
            raw[6] = (raw[6] & 0x0F) | 0x40
            raw[8] = (raw[8] & 0x3F) | 0x80
            return UUID(uuid: raw.loadUnaligned(as: uuid_t.self))
        }
    }
}

private enum People {
    static let first = ["Ada", "Grace", "Linus", "Margaret", "Alan", "Katherine", "Dennis", "Barbara", "Ken", "Frances", "Edsger", "Radia", "Tim", "Hedy", "John", "Sophie", "Niklaus", "Shafi", "Donald", "Lynn"]
    static let last = ["Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Johnson", "Ritchie", "Liskov", "Thompson", "Allen", "Dijkstra", "Perlman", "Berners-Lee", "Lamarr", "Backus", "Wilson", "Wirth", "Goldwasser", "Knuth", "Conway"]

    static func person(_ rng: inout SplitMix64) -> (String, String?) {
        let first = first.randomElement(using: &rng)!, last = last.randomElement(using: &rng)!
        let email = Int.random(in: 0..<10, using: &rng) == 0 ? nil : "\(first.lowercased()).\(last.lowercased())\(Int.random(in: 1...999, using: &rng))@example.com"
        return ("\(first) \(last)", email)
    }
}

private enum Notes {
    static let changes: [PageType: [(String, String)]] = [
        .activation: [
            ("Shortened the welcome to one screen; people scrolled past the button.", "A shorter welcome gets more clicks on Activate."),
            ("Put the client's own project name in the headline.", "Personal headlines raise activation within a day."),
            ("Moved the FAQ below the call to action.", "Fewer people stall reading the FAQ first."),
        ],
        .agreement: [
            ("Rewrote the terms in plain words; two clients asked what 'deliverables' meant.", "Plain terms cut questions and speed up signing."),
            ("Split the scope into three short sections.", "Readers who see the scope at a glance sign sooner."),
            ("Removed the cancellation clause from the first screen.", "Leading with the scope, not the exits, raises sign rates."),
        ],
        .confirmation: [
            ("Added the start date and the first milestone.", "Knowing what happens next lowers drop-off before payment."),
            ("Listed what is included in the $500 plan.", "Seeing what is included makes the price feel fair."),
            ("Made the summary fit without scrolling.", "A summary that fits on one screen converts better."),
        ],
        .processing: [
            ("Showed a progress note while the payment is processed.", "Fewer clients retry the payment when they see progress."),
            ("Named the card statement descriptor.", "Clients who know the descriptor dispute less."),
            ("Offered a receipt by email right away.", "An instant receipt reduces support mail."),
        ],
    ]

    static func reason(page: PageType, step: Int, rng: inout SplitMix64) -> (notes: String?, hypothesis: String?) {
        if step == 0 { return ("First version from the \(page.rawValue) template.", nil) }
        let pair = changes[page]!.randomElement(using: &rng)!
        return (pair.0, Int.random(in: 0..<8, using: &rng) == 0 ? nil : pair.1)
    }

    static func outcome(_ outcome: Outcome, rng: inout SplitMix64) -> String {
        outcome == .success
            ? ["Signed the same day.", "Paid within an hour of activating.", "No questions before signing."].randomElement(using: &rng)!
            : ["Asked three questions about scope.", "Stalled on the terms for a week.", "Left at the pricing section."].randomElement(using: &rng)!
    }
}

/// Page content that looks like the real thing: headings, paragraphs, pricing, terms.
enum PageWriter {
    static let words = "project client studio design delivery milestone review schedule invoice scope revision launch brief feedback timeline budget quality support handover research concept prototype contract payment start weekly draft final approval team goal result".split(separator: " ").map(String.init)

    static func sentence(_ rng: inout SplitMix64) -> String {
        let count = Int.random(in: 8...18, using: &rng)
        var text = (0..<count).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ")
        text = text.prefix(1).uppercased() + text.dropFirst() + "."
        return text
    }

    /// `text` cut or lengthened with more words to exactly `length` bytes, ending with a full stop
    /// (the words are ASCII: a byte is a character).
    static func fitted(_ text: String, to length: Int, _ rng: inout SplitMix64) -> String {
        guard length > 1 else { return String(text.prefix(max(length, 0))) }
        var text = text
        while text.utf8.count < length { text += " " + sentence(&rng) }
        var cut = String(text.prefix(length - 1))
        // A word, not a space, before the full stop: the word cut there made plural.
        if cut.hasSuffix(" ") { cut = cut.dropLast() + "s" }
        return cut + "."
    }

    /// The canonical size in bytes of `value`, as stored.
    static func size(_ value: JSONValue) -> Int { value.canonicalBytes().count }

    /// A section of exactly `bytes` bytes as stored (a heading and one paragraph), `bytes` being
    /// `sectionFloor` or more.
    static func section(bytes: Int, _ rng: inout SplitMix64) -> JSONValue {
        let first = sentence(&rng)
        let heading = first.utf8.count <= bytes / 3 ? first : fitted(first, to: bytes / 3, &rng)
        let frame = size(.object(["heading": .string(heading), "paragraphs": .array([.string("")])]))
        return .object(["heading": .string(heading), "paragraphs": .array([.string(fitted(sentence(&rng), to: bytes - frame, &rng))])])
    }

    /// The smallest section worth writing: a heading and a paragraph of a few words.
    static let sectionFloor = 200

    /// The content of version `step` (0-based) of a page: the base page, `target` bytes as stored
    /// when its fixed parts (title, headline, pricing, five terms, the call to action: 700 to
    /// 1,100 bytes) leave room, changed once per step by edits that keep its size within a few
    /// bytes (a section is replaced by one of its size).
    static func content(page: PageType, seed: UInt64, step: Int, bytes target: Int) -> JSONValue {
        var rng = SplitMix64(seed: seed)
        var headline = "Welcome to your \(page.rawValue) page"
        var terms: [JSONValue] = (1...5).map { .object(["clause": .integer(Int64($0)), "text": .string(sentence(&rng))]) }
        var amount: Int64 = 50_000
        var cta = "Continue"
        func whole(_ sections: [JSONValue]) -> JSONValue {
            .object([
                "title": .string(page.rawValue.capitalized),
                "headline": .string(headline),
                "sections": .array(sections),
                "pricing": .object(["amount_cents": .integer(amount), "currency": .string("usd"), "plan": .string("Standard project")]),
                "terms": .array(terms),
                "call_to_action": .object(["label": .string(cta), "url": .string("/\(page.rawValue)")]),
            ])
        }
        // Sections are added while they fit, each measured as stored (a comma between two), and
        // the last one is cut to what is left.
        var sections: [JSONValue] = []
        var sizes: [Int] = []
        var total = size(whole([]))
        while target - total - (sections.isEmpty ? 0 : 1) >= sectionFloor {
            let room = target - total - (sections.isEmpty ? 0 : 1)
            let paragraphs = (0..<Int.random(in: 2...4, using: &rng)).map { _ in
                JSONValue.string((0..<Int.random(in: 3...6, using: &rng)).map { _ in sentence(&rng) }.joined(separator: " "))
            }
            var section = JSONValue.object(["heading": .string(sentence(&rng)), "paragraphs": .array(paragraphs)])
            // The last section takes what is left, so that no room too small for one remains.
            if size(section) > room - 1 - sectionFloor { section = Self.section(bytes: room, &rng) }
            sizes.append(size(section))
            total += sizes.last! + (sections.isEmpty ? 0 : 1)
            sections.append(section)
        }
        for change in 0..<step {
            var step = SplitMix64(seed: seed &+ UInt64(change + 1))
            switch Int.random(in: 0..<4, using: &step) {
            case 0: headline = fitted(sentence(&step), to: headline.utf8.count, &step)
            case 1:
                if case .object(let last) = terms.removeLast(), case .string(let text)? = last["text"] {
                    terms.append(.object(["clause": .integer(Int64(terms.count + 1)), "text": .string(fitted(sentence(&step), to: text.utf8.count, &step))]))
                }
            case 2: cta = ["Sign and continue", "Activate now", "Start the project", "Confirm"].randomElement(using: &step)!
            default:
                if !sections.isEmpty {
                    let index = Int.random(in: 0..<sections.count, using: &step)
                    sections[index] = section(bytes: sizes[index], &step)
                }
                amount = [50_000, 45_000, 50_000].randomElement(using: &step)!
            }
        }
        return whole(sections)
    }
}
