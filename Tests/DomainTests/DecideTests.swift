import Domain
import Foundation
import Testing

let clientID = UUID(uuidString: "11111111-1111-4111-8111-111111111111")!
let versionA = UUID(uuidString: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")!
let versionB = UUID(uuidString: "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb")!
let paymentID = UUID(uuidString: "cccccccc-cccc-4ccc-8ccc-cccccccccccc")!
let t1 = Token(number: 427), t2 = Token(number: 9_001)

/// Given these events (of the one client), the client's state.
func given(_ events: [Event]) -> ClientState { ClientState.fold(events) }

let created = Event.clientCreated(ClientCreated(clientID: clientID, name: "Ada", email: "ada@example.com", metadata: .object([:])))
let issued = Event.tokenIssued(TokenIssued(clientID: clientID, activationToken: t1, replaces: nil))
let activated = Event.clientActivated(ClientActivated(clientID: clientID, activationToken: t1))
func drafted(_ id: UUID, _ page: PageType = .agreement, number: Int = 1) -> Event {
    .versionDrafted(VersionDrafted(
        clientID: clientID, versionID: id, pageType: page, versionNumber: number, content: CanonicalJSON(.object([:])),
        iterationNotes: nil, hypothesis: nil, createdBy: "admin", metadata: .object([:])
    ))
}
func promoted(_ id: UUID, previous: UUID? = nil, _ page: PageType = .agreement) -> Event {
    .versionPromoted(VersionPromoted(clientID: clientID, versionID: id, pageType: page, previousVersionID: previous))
}
func pay(_ action: PaymentAction, intent: String = "pi_1", amount: Int64 = 50_000, version: UUID? = nil) -> Command {
    .payment(action, clientID: clientID, paymentID: paymentID, intent: intent, amount: amount, contentVersionID: version, reason: nil)
}
func payment(_ action: PaymentAction, intent: String = "pi_1", version: UUID? = nil) -> Event {
    let record = PaymentRecord(clientID: clientID, paymentID: paymentID, contentVersionID: version, stripePaymentIntentID: intent, amount: 50_000)
    switch action {
    case .start: return .paymentInitiated(record)
    case .succeed: return .paymentSucceeded(record)
    case .fail: return .paymentFailed(record)
    case .cancel: return .paymentCancelled(record)
    }
}

/// Expects `command` on `state` to be refused with `code`, and a one-line message containing `fragment`.
func expectRefused(_ command: Command, _ state: ClientState, _ code: DomainError.Code, _ fragment: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let events = try decide(command, state: state)
        Issue.record("expected \(code), got \(events)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
        #expect(fragment.isEmpty || error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
        #expect(!error.message.contains("\n"), sourceLocation: sourceLocation)
    }
}

@Suite("Clients and tokens (rules 1, 2, 7)")
struct ClientTests {
    @Test("creating a client gives a pending client; creating it again is refused")
    func create() throws {
        let command = Command.createClient(clientID: clientID, name: "  Ada  ", email: nil, metadata: .object(["a": .integer(1)]))
        let events = try decide(command, state: .initial)
        #expect(events == [.clientCreated(ClientCreated(clientID: clientID, name: "Ada", email: nil, metadata: .object(["a": .integer(1)])))])
        #expect(given(events).status == .pending)
        expectRefused(command, given(events), .clientExists)
    }

    @Test("a blank name, a bad email or non-object metadata is refused", arguments: [
        Command.createClient(clientID: clientID, name: " ", email: nil, metadata: .object([:])),
        .createClient(clientID: clientID, name: "Ada", email: "not-an-email", metadata: .object([:])),
        .createClient(clientID: clientID, name: "Ada", email: "a b@example.com", metadata: .object([:])),
        .createClient(clientID: clientID, name: "Ada", email: nil, metadata: .array([])),
    ])
    func badClient(command: Command) {
        #expect(throws: DomainError.self) { try decide(command, state: .initial) }
    }

    @Test("blank notes, hypothesis or reason are refused in a new command (none is given as none), and restored from a backup")
    func blankTexts() throws {
        let drafted = Command.draftVersion(
            clientID: clientID, versionID: UUID(), pageType: .agreement, content: CanonicalJSON(.object([:])), iterationNotes: " \n", hypothesis: nil, createdBy: "admin", metadata: .object([:])
        )
        expectRefused(drafted, given([created]), .text, "iteration notes must not be blank")
        #expect(try decide(drafted, state: given([created]), asStored: true).count == 1)
        let hypothesis = Command.draftVersion(
            clientID: clientID, versionID: UUID(), pageType: .agreement, content: CanonicalJSON(.object([:])), iterationNotes: nil, hypothesis: "", createdBy: "admin", metadata: .object([:])
        )
        expectRefused(hypothesis, given([created]), .text, "hypothesis must not be blank")
        // A failure reported with a blank reason is refused, unless it repeats one recorded: a no-op.
        let failed = Command.payment(.fail, clientID: clientID, paymentID: UUID(), intent: "pi_blank", amount: 100, contentVersionID: nil, reason: " ")
        expectRefused(failed, given([created, issued, activated]), .text, "reason must not be blank")
        let recorded = try decide(failed, state: given([created, issued, activated]), asStored: true)
        #expect(try decide(failed, state: given([created, issued, activated] + recorded)) == [])
    }

    @Test("an email's refusal is one line however long or odd the email; control characters are refused in a new one, and restored from a backup")
    func emailMessages() throws {
        let long = String(repeating: "a", count: 100_000) + "@example.com"
        expectRefused(.createClient(clientID: clientID, name: "Ada", email: long, metadata: .object([:])), .initial, .email, "over the limit of 320")
        do {
            _ = try decide(.createClient(clientID: clientID, name: "Ada", email: long, metadata: .object([:])), state: .initial)
        } catch {
            #expect(error.message.utf8.count < 200, "\(error.message.utf8.count) bytes")
        }
        let bell = "a\u{07}\u{1B}[31m@example.com"
        let command = Command.createClient(clientID: clientID, name: "Ada", email: bell, metadata: .object([:]))
        expectRefused(command, .initial, .email, #"email "a\u{07}\u{1B}[31m@example.com" is not an email address"#)
        #expect(try decide(command, state: .initial, asStored: true).count == 1)
        expectRefused(.createClient(clientID: clientID, name: "Ada", email: "a\nb@example.com", metadata: .object([:])), .initial, .email, #""a\nb@example.com""#)
        // Characters that show nothing would make two addresses print alike; the joiners some
        // scripts write words with, and those inside an emoji, are kept.
        for hidden in ["a\u{200B}@example.com", "a@exa\u{AD}mple.com", "\u{FEFF}a@example.com", "a\u{2060}@example.com", "a\u{200D}@example.com", "a\u{FE0F}@example.com"] {
            let command = Command.createClient(clientID: clientID, name: "Ada", email: hidden, metadata: .object([:]))
            expectRefused(command, .initial, .email, #"\#(hidden.debugDescription) is not an email address (name@domain, the domain with a dot as in ana@example.com and nothing empty between its dots; no spaces, control characters or characters that show nothing)"#)
            #expect(try decide(command, state: .initial, asStored: true).count == 1)
        }
        // An empty name between two dots is no domain (a dot ending the name before the @ is kept:
        // some providers gave such addresses out).
        for empty in ["a@b..com", "a@mail..example.com"] {
            let command = Command.createClient(clientID: clientID, name: "Ada", email: empty, metadata: .object([:]))
            expectRefused(command, .initial, .email, #""\#(empty)" is not an email address (name@domain, the domain with a dot as in ana@example.com and nothing empty between its dots"#)
            #expect(try decide(command, state: .initial, asStored: true).count == 1)
        }
        #expect(try decide(.createClient(clientID: clientID, name: "Ada", email: "a.@b.example.com", metadata: .object([:])), state: .initial).count == 1)
        for shown in ["می\u{200C}خواهم@example.com", "i\u{2764}\u{FE0F}ny@example.com", "👩\u{200D}💻@example.com"] {
            #expect(try decide(.createClient(clientID: clientID, name: "Ada", email: shown, metadata: .object([:])), state: .initial).count == 1, "\(shown)")
        }
    }

    @Test("any command on an unknown client is refused with its id")
    func unknownClient() {
        expectRefused(.issueToken(clientID: clientID, token: t1), .initial, .unknownClient, clientID.uuidString.lowercased())
        expectRefused(pay(.start), .initial, .unknownClient, clientID.uuidString.lowercased())
    }

    @Test("a first token, then a reissue that retires it")
    func tokens() throws {
        #expect(try decide(.issueToken(clientID: clientID, token: t1), state: given([created])) == [issued])
        let reissue = try decide(.issueToken(clientID: clientID, token: t2), state: given([created, issued]))
        #expect(reissue == [.tokenIssued(TokenIssued(clientID: clientID, activationToken: t2, replaces: t1))])
        let state = given([created, issued] + reissue)
        #expect(state.token == t2 && state.retiredTokens == [t1])
        expectRefused(.issueToken(clientID: clientID, token: t1), state, .tokenAlreadyIssued, "G0427")
        expectRefused(.issueToken(clientID: clientID, token: t2), state, .tokenAlreadyIssued, "G9001")
        expectRefused(.activate(clientID: clientID, token: t1), state, .tokenRetired, "G0427")
    }

    @Test("activation: pending → active once; again with the token is a no-op; other cases are refused")
    func activation() throws {
        #expect(try decide(.activate(clientID: clientID, token: t1), state: given([created, issued])) == [activated])
        let again = try decision(.activate(clientID: clientID, token: t1), state: given([created, issued, activated]))
        #expect(again == Decision(events: [], unchanged: "client \(clientID.lowercased) is active already, and G0427 is its token: activating again changes nothing (rule 2)"))
        expectRefused(.activate(clientID: clientID, token: t1), given([created]), .statusTransition, "no activation token")
        expectRefused(.activate(clientID: clientID, token: t2), given([created, issued]), .tokenMismatch, "G9001")
        let paid = given([created, issued, activated, payment(.succeed)])
        expectRefused(.activate(clientID: clientID, token: t1), paid, .statusTransition, "activating twice")
    }

    @Test("a deleted client takes no more commands")
    func deleted() throws {
        let deleted = try decide(.deleteClient(clientID: clientID), state: given([created]))
        let state = given([created] + deleted)
        #expect(state.isDeleted)
        expectRefused(.issueToken(clientID: clientID, token: t1), state, .clientDeleted)
        expectRefused(.deleteClient(clientID: clientID), state, .clientDeleted)
    }
}

@Suite("Status transitions (rule 2)")
struct StatusTests {
    static let paths: [(history: [Event], command: Command, status: ClientStatus?)] = [
        ([created, issued], pay(.start), nil),
        ([created, issued], pay(.succeed), nil),
        ([created, issued], pay(.fail), nil),
        ([created, issued], pay(.cancel), nil),
        ([created, issued, activated], pay(.succeed), .paid),
        ([created, issued, activated], pay(.fail), .failed),
        ([created, issued, activated], pay(.start), .active),
        ([created, issued, activated, payment(.fail)], pay(.succeed), .paid),
        ([created, issued, activated, payment(.fail)], pay(.succeed, intent: "pi_2"), .paid),
        ([created, issued, activated, payment(.succeed)], pay(.fail, intent: "pi_2"), .paid),
    ]

    @Test("payments move the status as the rule says; paying before activation is refused", arguments: paths.indices)
    func transition(index: Int) throws {
        let path = Self.paths[index]
        guard let status = path.status else {
            expectRefused(path.command, given(path.history), .statusTransition, "before activation")
            return
        }
        let events = try decide(path.command, state: given(path.history))
        #expect(given(path.history + events).status == status)
    }
}

@Suite("Content versions (rules 3, 4, 5)")
struct VersionTests {
    func draft(_ id: UUID, _ page: PageType = .agreement, content: JSONValue = .object([:])) -> Command {
        .draftVersion(clientID: clientID, versionID: id, pageType: page, content: CanonicalJSON(content), iterationNotes: "why", hypothesis: "what", createdBy: "admin", metadata: .object([:]))
    }

    @Test("version numbers are 1, 2, 3… per page, assigned by decide")
    func numbers() throws {
        var history = [created]
        var numbers: [Int] = []
        for (id, page) in [(UUID(), PageType.agreement), (UUID(), .agreement), (UUID(), .activation), (UUID(), .agreement)] {
            let events = try decide(draft(id, page), state: given(history))
            if case .versionDrafted(let e) = events.first { numbers.append(e.versionNumber) }
            history += events
        }
        #expect(numbers == [1, 2, 1, 3])
    }

    @Test("content and metadata must be JSON objects")
    func content() {
        expectRefused(draft(versionA, content: .array([])), given([created]), .contentNotObject, "rule 5")
        expectRefused(draft(versionA, content: .string("x")), given([created]), .contentNotObject)
    }

    @Test("promoting demotes the previous current version in the same event; promoting the current one is a no-op")
    func promotion() throws {
        let history = [created, drafted(versionA), drafted(versionB, number: 2)]
        let first = try decide(.promoteVersion(clientID: clientID, versionID: versionA), state: given(history))
        #expect(first == [promoted(versionA)])
        let second = try decide(.promoteVersion(clientID: clientID, versionID: versionB), state: given(history + first))
        #expect(second == [promoted(versionB, previous: versionA)])
        let state = given(history + first + second)
        #expect(state.versions[versionA]?.isCurrent == false && state.versions[versionB]?.isCurrent == true)
        #expect(state.currentVersionID == versionB)
        let again = try decision(.promoteVersion(clientID: clientID, versionID: versionB), state: state)
        #expect(again == Decision(events: [], unchanged: "content version \(versionB.lowercased) is current already: promoting it again changes nothing (rule 4)"))
    }

    @Test("a promotion demotes its own page's current version, not the current version of the page promoted last")
    func previousOfItsPage() throws {
        let versionC = UUID()
        let history = [created, drafted(versionA, .activation), drafted(versionB), drafted(versionC, .activation, number: 2)]
        let first = try decide(.promoteVersion(clientID: clientID, versionID: versionA), state: given(history))
        let second = try decide(.promoteVersion(clientID: clientID, versionID: versionB), state: given(history + first))
        #expect(second == [promoted(versionB)], "the agreement page had no current version")
        let third = try decide(.promoteVersion(clientID: clientID, versionID: versionC), state: given(history + first + second))
        #expect(third == [promoted(versionC, previous: versionA, .activation)])
        let state = given(history + first + second + third)
        #expect(state.versions[versionA]?.isCurrent == false && state.versions[versionB]?.isCurrent == true && state.versions[versionC]?.isCurrent == true)
        #expect(state.currentVersionID == versionC)
        // The log's check of a stored promotion holds it to the same.
        #expect(throws: DomainError.self) { try validate(promoted(versionC, previous: versionB, .activation), state: given(history + first + second)) }
    }

    @Test("promoting a page's current version again makes it the client's current version when another page's took that since")
    func repromotion() throws {
        let history = [created, drafted(versionA), drafted(versionB, .activation), promoted(versionA), promoted(versionB, .activation)]
        #expect(given(history).currentVersionID == versionB)
        let again = try decide(.promoteVersion(clientID: clientID, versionID: versionA), state: given(history))
        #expect(again == [promoted(versionA)], "nothing to demote: it is its page's current version")
        let state = given(history + again)
        #expect(state.currentVersionID == versionA)
        #expect(state.versions[versionA]?.isCurrent == true && state.versions[versionB]?.isCurrent == true)
        #expect(try decide(.promoteVersion(clientID: clientID, versionID: versionA), state: state).isEmpty)
        // A payment with no version named is linked to the client's current one, now A.
        let paid = try decide(pay(.start), state: given([created, issued, activated] + history.dropFirst() + again))
        guard case .paymentInitiated(let record) = paid.first else { Issue.record("\(paid)"); return }
        #expect(record.contentVersionID == versionA)
    }

    @Test("a version the client does not have is refused, naming it")
    func unknownVersion() {
        expectRefused(.promoteVersion(clientID: clientID, versionID: versionA), given([created]), .unknownVersion, versionA.uuidString.lowercased())
        expectRefused(.recordOutcome(clientID: clientID, versionID: versionA, outcome: .success, notes: nil), given([created]), .unknownVersion)
    }

    @Test("outcomes are success, failure or pending", arguments: ["success", "failure", "pending", "won", ""])
    func outcomes(text: String) throws {
        if ["success", "failure", "pending"].contains(text) {
            let outcome = try Outcome.parse(text)
            let events = try decide(.recordOutcome(clientID: clientID, versionID: versionA, outcome: outcome, notes: "n"), state: given([created, drafted(versionA)]))
            #expect(given([created, drafted(versionA)] + events).versions[versionA]?.outcome == outcome)
        } else {
            #expect(throws: DomainError.self) { try Outcome.parse(text) }
        }
    }

    @Test("page types are the four", arguments: ["activation", "agreement", "confirmation", "processing", "home", "Agreement"])
    func pages(text: String) {
        let valid = PageType.allCases.map(\.rawValue).contains(text)
        #expect(((try? PageType.parse(text)) != nil) == valid)
    }
}

@Suite("Payments (rule 6)")
struct PaymentTests {
    let active = [created, issued, activated, drafted(versionA), promoted(versionA)]

    @Test("amounts are positive whole cents up to Stripe's maximum", arguments: [0, -1, 100_000_000, Int64.max, 1, 99_999_999] as [Int64])
    func amounts(amount: Int64) {
        let allowed = amount >= 1 && amount <= 99_999_999
        let result = Result { try decide(pay(.start, amount: amount), state: given(active)) }
        #expect(((try? result.get()) != nil) == allowed)
    }

    @Test("the content version defaults to the client's current version")
    func defaultVersion() throws {
        let events = try decide(pay(.start), state: given(active))
        #expect(events.first?.payment?.contentVersionID == versionA)
    }

    @Test("a content version that is not the client's is refused")
    func foreignVersion() {
        expectRefused(pay(.start, version: versionB), given(active), .versionOfAnotherClient, versionB.uuidString.lowercased())
    }

    @Test("the same intent reported again with the same status is a no-op")
    func webhookRetry() throws {
        let history = active + [payment(.succeed, version: versionA)]
        let again = try decision(pay(.succeed), state: given(history))
        #expect(again == Decision(events: [], unchanged: "payment intent pi_1 is succeeded already: the same report again changes nothing (webhooks retry; rule 6)"))
        // A failure reported again with a reason: the note says the first one's stands.
        let failed = active + [payment(.fail, version: versionA)]
        let otherReason = Command.payment(.fail, clientID: clientID, paymentID: paymentID, intent: "pi_1", amount: 50_000, contentVersionID: nil, reason: "expired_card")
        #expect(try decision(otherReason, state: given(failed)) == Decision(events: [], unchanged: #"payment intent pi_1 is failed already: the same report again changes nothing, its reason included: the failure keeps the one it was first recorded with (webhooks retry; rule 6)"#))
    }

    @Test("an intent id is 1 to 255 visible ASCII characters, as Stripe's are")
    func intentForm() throws {
        let history = [created, issued, activated]
        for intent in ["", "pi 1", "pi_\u{e9}", "pi_e\u{301}", "pi_\n", "pi_\u{7f}", String(repeating: "a", count: 256)] {
            expectRefused(pay(.succeed, intent: intent), given(history), .intent, "visible ASCII")
        }
        #expect(try decide(pay(.succeed, intent: "pi_3MtwBwLkdIwHu7ix28a3tqPa:~!"), state: given(history)).count == 1)
        #expect(try decide(pay(.succeed, intent: String(repeating: "a", count: 255)), state: given(history)).count == 1)
    }

    @Test("an intent keeps its amount and its payment id")
    func intentIdentity() throws {
        let history = active + [payment(.start, version: versionA)]
        expectRefused(pay(.succeed, amount: 49_999), given(history), .intentMismatch, "50000")
        let other = UUID()
        let events = try decide(.payment(.succeed, clientID: clientID, paymentID: other, intent: "pi_1", amount: 50_000, contentVersionID: nil, reason: nil), state: given(history))
        #expect(events.first?.payment?.paymentID == paymentID)
    }

    @Test("an intent keeps the content version it was first reported with: a report naming another is refused, naming both")
    func intentVersion() throws {
        let withB = active + [drafted(versionB, .activation)]
        let linked = withB + [payment(.start, version: versionA)]
        #expect(try decide(pay(.succeed, version: versionA), state: given(linked)).first?.payment?.contentVersionID == versionA)
        expectRefused(pay(.succeed, version: versionB), given(linked), .intentMismatch,
                      "payment intent pi_1 is linked to content version \(versionA.lowercased), not to \(versionB.lowercased) (rule 6)")
        // Started while no version was current: linked to none, which the refusal says in words.
        let unlinked = [created, issued, activated, drafted(versionA), payment(.start)]
        expectRefused(pay(.succeed, version: versionA), given(unlinked), .intentMismatch,
                      "payment intent pi_1 is linked to no content version (none was current when it was first reported), not to \(versionA.lowercased) (rule 6)")
    }

    @Test("a late failure is a no-op whatever its reason, as a repeated one is")
    func lateFailureReason() throws {
        let history = active + [payment(.succeed, version: versionA)]
        let late = Command.payment(.fail, clientID: clientID, paymentID: paymentID, intent: "pi_1", amount: 50_000, contentVersionID: nil, reason: " ")
        let decided = try decision(late, state: given(history))
        #expect(decided.events.isEmpty && decided.unchanged?.contains("late report that it is failed") == true)
        expectRefused(late, given(active + [payment(.start, version: versionA)]), .text, "reason")
    }

    enum Outcome { case moves, late, refused }

    @Test("payment statuses move forward only; a late report of a step a finished payment is past is a no-op", arguments: [
        (PaymentAction.start, PaymentAction.succeed, Outcome.moves), (.start, .fail, .moves), (.start, .cancel, .moves),
        (.fail, .succeed, .moves), (.fail, .start, .moves), (.fail, .cancel, .moves),
        (.succeed, .fail, .late), (.succeed, .start, .late), (.cancel, .fail, .late), (.cancel, .start, .late),
        (.cancel, .succeed, .refused), (.succeed, .cancel, .refused),
    ])
    func paymentTransitions(first: PaymentAction, then: PaymentAction, outcome: Outcome) throws {
        let history = active + (try decide(pay(first), state: given(active)))
        switch outcome {
        case .moves:
            let decided = try decision(pay(then), state: given(history))
            #expect(decided.events.count == 1 && decided.unchanged == nil)
            #expect(given(history + decided.events).payments["pi_1"]?.status == then.status)
        case .late:
            let decided = try decision(pay(then), state: given(history))
            #expect(decided.events.isEmpty)
            #expect(decided.unchanged == "payment intent pi_1 is \(given(history).payments["pi_1"]!.status.rawValue): this late report that it is \(then.status.rawValue) changes nothing (Stripe delivers events out of order; rule 6)")
        case .refused: expectRefused(pay(then), given(history), .paymentTransition)
        }
    }
}

@Suite("Validating stored events")
struct ValidateTests {
    @Test("a late payment report is no event a log can hold, named by its intent and statuses; a repeat is named as one")
    func lateReport() throws {
        let history = [created, issued, activated, drafted(versionA), promoted(versionA), payment(.succeed, version: versionA)]
        #expect { try Domain.validate(payment(.fail, version: versionA), state: given(history)) } throws: {
            ($0 as? DomainError)?.message == "PaymentFailed cannot be in a log here: payment intent pi_1 is succeeded: this late report that it is failed changes nothing (Stripe delivers events out of order; rule 6)"
        }
        #expect { try Domain.validate(payment(.succeed, version: versionA), state: given(history)) } throws: {
            ($0 as? DomainError)?.message == "PaymentSucceeded cannot be in a log here: payment intent pi_1 is succeeded already: the same report again changes nothing (webhooks retry; rule 6)"
        }
    }

    @Test("a report of a known intent under another payment id names the payment the intent is")
    func paymentOfAnotherID() throws {
        let history = [created, issued, activated, drafted(versionA), promoted(versionA), payment(.start, version: versionA)]
        var record = PaymentRecord(clientID: clientID, paymentID: UUID(), contentVersionID: versionA, stripePaymentIntentID: "pi_1", amount: 50_000)
        #expect { try Domain.validate(.paymentSucceeded(record), state: given(history)) } throws: {
            ($0 as? DomainError)?.message == "payment_id is \(record.paymentID.lowercased) but payment intent \"pi_1\" is payment \(paymentID.lowercased)'s (rule 6: an intent names one payment)"
        }
        record.paymentID = paymentID
        try Domain.validate(.paymentSucceeded(record), state: given(history))
    }

    @Test("what decide makes validates; a skipped version number or a wrong previous version does not")
    func validate() throws {
        let state = given([created, drafted(versionA), promoted(versionA)])
        try Domain.validate(drafted(versionB, number: 2), state: state)
        #expect(throws: DomainError.self) { try Domain.validate(drafted(versionB, number: 3), state: state) }
        let withB = given([created, drafted(versionA), promoted(versionA), drafted(versionB, number: 2)])
        try Domain.validate(promoted(versionB, previous: versionA), state: withB)
        #expect(throws: DomainError.self) { try Domain.validate(promoted(versionB, previous: nil), state: withB) }
    }

    @Test("a promotion under another page is named as such, whether or not the version is current already")
    func promotionUnderAnotherPage() throws {
        let pageRule = "page_type is processing but content version \(versionA.lowercased) is a version of the agreement page (rule 4: a version becomes current for its own page)"
        for history in [[created, drafted(versionA)], [created, drafted(versionA), promoted(versionA)]] {
            #expect { try Domain.validate(promoted(versionA, .processing), state: given(history)) } throws: {
                ($0 as? DomainError)?.message == pageRule
            }
        }
        // Under its own page, a repeat is the no-op it is.
        #expect { try Domain.validate(promoted(versionA), state: given([created, drafted(versionA), promoted(versionA)])) } throws: {
            ($0 as? DomainError)?.message.contains("is current already: promoting it again changes nothing (rule 4)") == true
        }
    }
}
