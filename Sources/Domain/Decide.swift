#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A request to change one client. The command handler supplies ids and the drawn token, and
/// checks what one client's state cannot tell (a token used by anyone, an intent of another client).
public enum Command: Sendable, Hashable {
    case createClient(clientID: UUID, name: String, email: String?, metadata: JSONValue)
    case issueToken(clientID: UUID, token: Token)
    case activate(clientID: UUID, token: Token)
    case draftVersion(
        clientID: UUID, versionID: UUID, pageType: PageType, content: CanonicalJSON, iterationNotes: String?, hypothesis: String?,
        createdBy: String, metadata: JSONValue
    )
    case promoteVersion(clientID: UUID, versionID: UUID)
    case recordOutcome(clientID: UUID, versionID: UUID, outcome: Outcome, notes: String?)
    /// `paymentID` is used only when the intent is new.
    case payment(PaymentAction, clientID: UUID, paymentID: UUID, intent: String, amount: Int64, contentVersionID: UUID?, reason: String?)
    case deleteClient(clientID: UUID)

    public var clientID: UUID {
        switch self {
        case .createClient(let id, _, _, _), .issueToken(let id, _), .activate(let id, _), .promoteVersion(let id, _),
             .recordOutcome(let id, _, _, _), .deleteClient(let id):
            id
        case .draftVersion(let id, _, _, _, _, _, _, _): id
        case .payment(_, let id, _, _, _, _, _): id
        }
    }
}

/// The most a payment may be, in cents (Stripe's own limit).
public let maximumAmount: Int64 = 99_999_999
/// The longest name, notes or other free text Folio keeps, in characters.
public let maximumTextLength = 10_000

/// Decides what `command` does to a client in `state`: the events to append, none for an
/// idempotent repeat, or a refusal naming the rule.
/// - Parameter asStored: the command restores an event as an earlier Folio stored it (see
///   `validate(_:state:asStored:)`).
public func decide(_ command: Command, state: ClientState, asStored: Bool = false) throws(DomainError) -> [Event] {
    try decision(command, state: state, asStored: asStored).events
}

/// What a command does to a client: the events to append or, when it changes nothing, why.
public struct Decision: Sendable, Equatable {
    /// The events to append; none for a repeat or a late report.
    public var events: [Event]
    /// Why nothing is appended (one line): set exactly when `events` is empty.
    public var unchanged: String?

    public init(events: [Event], unchanged: String? = nil) {
        self.events = events
        self.unchanged = unchanged
    }
}

/// `decide(_:state:asStored:)`, saying why when the command changes nothing.
public func decision(_ command: Command, state: ClientState, asStored: Bool = false) throws(DomainError) -> Decision {
    var unchanged: String?
    let events = try decide(command, state: state, asStored: asStored, unchanged: &unchanged)
    assert(events.isEmpty == (unchanged != nil))
    return Decision(events: events, unchanged: unchanged)
}

/// Refuses every command but `createClient` on a client that does not exist or was deleted.
public func checkTakesActions(_ state: ClientState, client: UUID) throws(DomainError) {
    guard state.exists else {
        throw DomainError(.unknownClient, "client \(client.lowercased) does not exist (rule 7: unknown ids are refused)")
    }
    guard !state.isDeleted else {
        throw DomainError(.clientDeleted, "client \(client.lowercased) was deleted: its history is kept but it takes no more actions")
    }
}

private func decide(_ command: Command, state: ClientState, asStored: Bool, unchanged: inout String?) throws(DomainError) -> [Event] {
    let client = command.clientID
    if case .createClient(_, let name, let email, let metadata) = command {
        guard !state.exists else {
            throw DomainError(.clientExists, "client \(client.lowercased) already exists")
        }
        let trimmed = name.trimmingWhiteSpace()
        // Invisible characters alone are blank too, in a new name; an export's line keeps what an
        // earlier Folio took, so that a backup restores.
        guard !trimmed.isEmpty, trimmed.count <= 200, asStored || trimmed.unicodeScalars.contains(where: { !$0.isInvisible }) else {
            throw DomainError(.name, "a client's name must be 1 to 200 characters, not blank")
        }
        if let email { try checkEmail(email, asStored: asStored) }
        guard metadata.isObject else { throw DomainError(.metadataNotObject, "metadata must be a JSON object (rule 5)") }
        try JSONLimits.default.check(metadata, "metadata")
        return [.clientCreated(ClientCreated(clientID: client, name: trimmed, email: email, metadata: metadata))]
    }
    try checkTakesActions(state, client: client)

    switch command {
    case .createClient:
        // Reached only by a client that exists (a new one is decided above).
        throw DomainError(.clientExists, "client \(client.lowercased) already exists")

    case .issueToken(_, let token):
        if token == state.token || state.retiredTokens.contains(token) {
            throw DomainError(.tokenAlreadyIssued, "token \(token) is already issued: a token is never issued twice (rule 1)")
        }
        return [.tokenIssued(TokenIssued(clientID: client, activationToken: token, replaces: state.token))]

    case .activate(_, let token):
        if state.retiredTokens.contains(token) {
            throw DomainError(.tokenRetired, "token \(token) was retired: an old activation link never opens the pages again (rule 1)")
        }
        guard let current = state.token else {
            throw DomainError(.statusTransition, "client \(client.lowercased) has no activation token yet: issue one first (rule 2)")
        }
        guard token == current else {
            throw DomainError(.tokenMismatch, "token \(token) is not client \(client.lowercased)'s token (rule 1)")
        }
        switch state.status {
        case .pending: return [.clientActivated(ClientActivated(clientID: client, activationToken: token))]
        case .active:
            unchanged = "client \(client.lowercased) is active already, and \(token) is its token: activating again changes nothing (rule 2)"
            return []
        case .paid, .failed:
            throw DomainError(.statusTransition, "client \(client.lowercased) is \(state.status.rawValue): activating twice is refused (rule 2: pending → active happens once)")
        }

    case .draftVersion(_, let versionID, let page, let content, let notes, let hypothesis, let createdBy, let metadata):
        guard state.versions[versionID] == nil else {
            throw DomainError(.versionExists, "content version \(versionID.lowercased) already exists")
        }
        guard content.isObject else { throw DomainError(.contentNotObject, "content must be a JSON object (rule 5)") }
        guard metadata.isObject else { throw DomainError(.metadataNotObject, "metadata must be a JSON object (rule 5)") }
        try JSONLimits.default.check(content, "content")
        try JSONLimits.default.check(metadata, "metadata")
        try checkActor(createdBy, asStored: asStored)
        try checkText(notes, "iteration notes", asStored: asStored)
        try checkText(hypothesis, "hypothesis", asStored: asStored)
        let number = (state.lastVersionNumber[page] ?? 0) + 1
        return [.versionDrafted(VersionDrafted(
            clientID: client, versionID: versionID, pageType: page, versionNumber: number, content: content,
            iterationNotes: notes, hypothesis: hypothesis, createdBy: createdBy, metadata: metadata
        ))]

    case .promoteVersion(_, let versionID):
        guard let version = state.versions[versionID] else { throw unknownVersion(versionID, client) }
        if version.isCurrent {
            // Current for its page already: the client's current version again if another page's
            // promotion took that since (nothing to demote), else a repeat, a no-op.
            guard state.currentVersionID != versionID else {
                unchanged = "content version \(versionID.lowercased) is current already: promoting it again changes nothing (rule 4)"
                return []
            }
            return [.versionPromoted(VersionPromoted(clientID: client, versionID: versionID, pageType: version.pageType, previousVersionID: nil))]
        }
        return [.versionPromoted(VersionPromoted(
            clientID: client, versionID: versionID, pageType: version.pageType, previousVersionID: state.currentVersionByPage[version.pageType]
        ))]

    case .recordOutcome(_, let versionID, let outcome, let notes):
        guard state.versions[versionID] != nil else { throw unknownVersion(versionID, client) }
        try checkText(notes, "outcome notes", asStored: asStored)
        return [.outcomeRecorded(OutcomeRecorded(clientID: client, versionID: versionID, outcome: outcome, notes: notes))]

    case .payment(let action, _, let paymentID, let intent, let amount, let versionID, let reason):
        guard (1...maximumAmount).contains(amount) else {
            throw DomainError.amountRefused(String(amount))
        }
        if asStored || state.payments[intent] != nil { try checkStoredIntent(intent) } else { try checkIntent(intent) }
        // A report repeated, or late, is a no-op whatever its reason, as an earlier Folio took blank ones.
        let known = state.payments[intent]
        let late = known.map { isLate(action.status, after: $0.status) } ?? false
        try checkText(reason, "reason", asStored: asStored || known?.status == action.status || late)
        guard state.status != .pending else {
            throw DomainError(.statusTransition, "client \(client.lowercased) is pending: a payment before activation is refused (rule 2: status moves pending → active → paid)")
        }
        if let versionID, state.versions[versionID] == nil {
            throw DomainError(.versionOfAnotherClient, "content version \(versionID.lowercased) is not one of client \(client.lowercased)'s versions (rule 6)")
        }
        let status = action.status
        if let known {
            guard known.amount == amount else {
                throw DomainError(.intentMismatch, "payment intent \(intent) was recorded for \(known.amount) cents, not \(amount) (rule 6)")
            }
            if let versionID, versionID != known.contentVersionID {
                let linked = known.contentVersionID.map { "to content version \($0.lowercased)" } ?? "to no content version (none was current when it was first reported)"
                throw DomainError(.intentMismatch, "payment intent \(intent) is linked \(linked), not to \(versionID.lowercased) (rule 6)")
            }
            if late {
                unchanged = "payment intent \(intent) is \(known.status.rawValue): this late report that it is \(status.rawValue) changes nothing (Stripe delivers events out of order; rule 6)"
                return []
            }
            if known.status == status {
                // The log keeps the reason the failure was first reported with, whatever this one gives.
                let reasonKept = reason == nil ? "" : ", its reason included: the failure keeps the one it was first recorded with"
                unchanged = "payment intent \(intent) is \(status.rawValue) already: the same report again changes nothing\(reasonKept) (webhooks retry; rule 6)"
                return []
            }
            let allowed: Set<PaymentStatus> = switch known.status {
            case .pending: [.succeeded, .failed, .cancelled]
            case .failed: [.succeeded, .cancelled, .pending]
            case .succeeded, .cancelled: []
            }
            guard allowed.contains(status) else {
                throw DomainError(.paymentTransition, "payment intent \(intent) is \(known.status.rawValue): it cannot become \(status.rawValue) (rule 6)")
            }
            return [paymentEvent(action, PaymentRecord(
                clientID: client, paymentID: known.paymentID, contentVersionID: known.contentVersionID,
                stripePaymentIntentID: intent, amount: amount, reason: action == .fail ? reason : nil
            ))]
        }
        return [paymentEvent(action, PaymentRecord(
            clientID: client, paymentID: paymentID, contentVersionID: versionID ?? state.currentVersionID,
            stripePaymentIntentID: intent, amount: amount, reason: action == .fail ? reason : nil
        ))]

    case .deleteClient:
        return [.clientDeleted(ClientDeleted(clientID: client))]
    }
}

/// Whether a report that a payment is `reported` comes late for one that is `known`: Stripe does
/// not deliver events in order, and once an intent succeeded or was cancelled, a report that it was
/// created, or that an attempt failed, is of a step it is past. Such a report changes nothing (an
/// error would have the webhook retried for days).
func isLate(_ reported: PaymentStatus, after known: PaymentStatus) -> Bool {
    (known == .succeeded || known == .cancelled) && (reported == .pending || reported == .failed)
}

/// Checks that a stored or imported `event` is what its command would have produced on `state`.
///
/// - Throws: the refusal its command would get, or `eventMismatch` when the event differs from
///   what the rules make (a skipped version number, a wrong previous version…).
/// - Parameter asStored: the event is restored as an earlier Folio stored it (an export's line):
///   a payment intent is held to the form it stored then (`checkStoredIntent`).
public func validate(_ event: Event, state: ClientState, asStored: Bool = false) throws(DomainError) {
    let command: Command
    switch event {
    case .clientCreated(let e):
        command = .createClient(clientID: e.clientID, name: e.name, email: e.email, metadata: e.metadata)
    case .tokenIssued(let e):
        command = .issueToken(clientID: e.clientID, token: e.activationToken)
    case .clientActivated(let e):
        command = .activate(clientID: e.clientID, token: e.activationToken)
    case .versionDrafted(let e):
        command = .draftVersion(
            clientID: e.clientID, versionID: e.versionID, pageType: e.pageType, content: e.content, iterationNotes: e.iterationNotes,
            hypothesis: e.hypothesis, createdBy: e.createdBy, metadata: e.metadata
        )
    case .versionPromoted(let e):
        command = .promoteVersion(clientID: e.clientID, versionID: e.versionID)
    case .outcomeRecorded(let e):
        command = .recordOutcome(clientID: e.clientID, versionID: e.versionID, outcome: e.outcome, notes: e.notes)
    case .paymentInitiated(let p), .paymentSucceeded(let p), .paymentFailed(let p), .paymentCancelled(let p):
        let action: PaymentAction = switch event {
        case .paymentInitiated: .start
        case .paymentSucceeded: .succeed
        case .paymentFailed: .fail
        default: .cancel
        }
        command = .payment(action, clientID: p.clientID, paymentID: p.paymentID, intent: p.stripePaymentIntentID, amount: p.amount, contentVersionID: p.contentVersionID, reason: p.reason)
    case .clientDeleted(let e):
        command = .deleteClient(clientID: e.clientID)
    }
    let decided = try decision(command, state: state, asStored: asStored)
    let expected = decided.events
    guard expected == [event] else {
        // A promotion under another page is named as such, even of a version current already.
        if case .versionPromoted(let given) = event, let version = state.versions[given.versionID], given.pageType != version.pageType {
            throw DomainError(.eventMismatch, "page_type is \(given.pageType.rawValue) but content version \(given.versionID.lowercased) is a version of the \(version.pageType.rawValue) page (rule 4: a version becomes current for its own page)")
        }
        // Folio appends nothing for such a command, so no log of its holds the event.
        if let unchanged = decided.unchanged {
            throw DomainError(.eventMismatch, "\(event.type.rawValue) cannot be in a log here: \(unchanged)")
        }
        if case .versionDrafted(let given) = event, case .versionDrafted(let made)? = expected.first, given.versionNumber != made.versionNumber {
            throw DomainError(.eventMismatch, "version_number is \(given.versionNumber) but the next \(given.pageType.rawValue) version is \(made.versionNumber) (rule 3: version numbers are gapless and never reused)")
        }
        if case .tokenIssued(let given) = event, case .tokenIssued(let made)? = expected.first, given.replaces != made.replaces {
            throw DomainError(.eventMismatch, "replaces is \(given.replaces.map { "\($0)" } ?? "null") but the client's token is \(made.replaces.map { "\($0)" } ?? "none"): a new token retires the one it replaces (rule 1)")
        }
        if case .versionPromoted(let given) = event, case .versionPromoted(let made)? = expected.first, given.previousVersionID != made.previousVersionID {
            throw DomainError(.eventMismatch, "previous_version_id is \(given.previousVersionID?.lowercased ?? "null") but the current \(given.pageType.rawValue) version is \(made.previousVersionID?.lowercased ?? "none") (rule 4)")
        }
        if let given = event.payment, let made = expected.first?.payment, given.paymentID != made.paymentID {
            throw DomainError(.eventMismatch, "payment_id is \(given.paymentID.lowercased) but payment intent \(given.stripePaymentIntentID.shortened.debugDescription) is payment \(made.paymentID.lowercased)'s (rule 6: an intent names one payment)")
        }
        // Otherwise a field that differs, by name (a name with white space at its ends, which a
        // command stores without it, say), both values shown from near where they differ.
        let payloads = (try? JSONParser.parse(event.encodePayload()), try? JSONParser.parse(expected[0].encodePayload()))
        if case (.object(let given)?, .object(let made)?) = payloads,
           let field = Set(given.keys).union(made.keys).sorted().first(where: { given[$0] != made[$0] }) {
            let texts = [given[field], made[field]].map { $0.map { Array(String(decoding: $0.canonicalBytes(), as: UTF8.self)) } }
            let common = zip(texts[0] ?? [], texts[1] ?? []).prefix { $0 == $1 }.count
            func shown(_ text: [Character]?) -> String {
                guard let text else { return "missing" }
                let start = max(0, common - 20), end = min(text.count, start + 60)
                return (start > 0 ? "…" : "") + String(text[start..<end]) + (end < text.count ? "…" : "")
            }
            throw DomainError(.eventMismatch, "\(event.type.rawValue) is not what the rules make of it here: its \(field) is \(shown(texts[0])) where they make it \(shown(texts[1]))")
        }
        throw DomainError(.eventMismatch, "\(event.type.rawValue) is not what the rules make of it here: expected \(String(decoding: expected[0].encodePayload(), as: UTF8.self).prefix(300))")
    }
}

private func paymentEvent(_ action: PaymentAction, _ record: PaymentRecord) -> Event {
    switch action {
    case .start: .paymentInitiated(record)
    case .succeed: .paymentSucceeded(record)
    case .fail: .paymentFailed(record)
    case .cancel: .paymentCancelled(record)
    }
}

private func unknownVersion(_ version: UUID, _ client: UUID) -> DomainError {
    DomainError(.unknownVersion, "content version \(version.lowercased) is not one of client \(client.lowercased)'s versions (rule 7: unknown ids are refused)")
}

/// Checks a new Stripe payment intent id's form: 1 to 255 visible ASCII characters, as Stripe's
/// are. (Text beyond ASCII could name one intent in two ways, `é` and `e\u{301}`, which a
/// client's state would take for one intent and the store's indexes, comparing bytes, for two.)
public func checkIntent(_ intent: String) throws(DomainError) {
    guard !intent.isEmpty, intent.utf8.count <= 255, intent.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
        throw DomainError(.intent, "payment intent id \(intent.shortened.debugDescription) is invalid: 1 to 255 visible ASCII characters, as Stripe's ids are (rule 6)")
    }
}

/// Checks a payment intent id against the form Folio stored before new ones were held to
/// ASCII: 1 to 255 bytes without spaces. An intent a client already holds is held to this
/// alone, so that a payment opened on it can still be closed, and so is an export's line, so
/// that a backup restores.
public func checkStoredIntent(_ intent: String) throws(DomainError) {
    guard !intent.isEmpty, intent.utf8.count <= 255, !intent.contains(where: \.isWhitespace) else {
        throw DomainError(.intent, "payment intent id \(intent.shortened.debugDescription) is invalid: 1 to 255 bytes without spaces (rule 6)")
    }
}

/// Checks an email's form: name@domain, the domain holding a dot, at most 320 characters, no white space. A new email
/// holds no control characters either (an escape sequence in a name would print into a
/// terminal), nor characters that show nothing where they stand (`scalarsShowingNothing`: a
/// zero-width space, a soft hyphen), which would make two addresses print alike; an export's
/// line is held to the earlier rule alone, so that a backup restores.
private func checkEmail(_ email: String, asStored: Bool) throws(DomainError) {
    guard email.count <= 320 else {
        throw DomainError(.email, "email \(email.shortened.debugDescription) is not an email address: \(email.count) characters, over the limit of 320")
    }
    let parts = email.split(separator: "@", omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty, parts[1].utf8.contains(UInt8(ascii: ".")), !parts[1].hasPrefix("."),
          !parts[1].hasSuffix("."), !email.contains(where: \.isWhitespace),
          // An empty name between two dots (`b..com`) is no domain; an earlier Folio took one.
          asStored || (!parts[1].contains("..") && !email.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
              && !email.scalarsShowingNothing.contains(true))
    else {
        throw DomainError(.email, "email \(email.debugDescription) is not an email address (name@domain, the domain with a dot as in ana@example.com and nothing empty between its dots; no spaces, control characters or characters that show nothing)")
    }
}

/// Checks who records an event (the envelope's actor, a version's `created_by`): 1 to 255
/// bytes, not blank. Line breaks and invisible characters are blank, as in a name or a note (an
/// actor of them alone prints as no one), except `asStored`, in an export's line: an earlier
/// Folio took them, and a backup restores.
public func checkActor(_ actor: String, asStored: Bool = false) throws(DomainError) {
    // A visible ASCII first byte settles "not blank" without trimming.
    let visibleStart = actor.utf8.first.map { $0 > 0x20 && $0 < 0x7F } ?? false
    guard visibleStart || actor.unicodeScalars.contains(where: { asStored ? !$0.isBlank(newlines: false) : !$0.isInvisible }), actor.utf8.count <= 255 else {
        throw DomainError(.actor, "the actor (--by, an event's actor, a draft's created_by) must be 1 to 255 bytes, not blank")
    }
}

/// Checks a text people write (notes, a hypothesis, a reason): at most `maximumTextLength`
/// characters, and, when new, not blank: none is said by giving none (`null`), which an empty
/// text printed as CSV or a table could not be told apart from. An export's line is held to the
/// length alone, so that a backup restores.
private func checkText(_ text: String?, _ what: String, asStored: Bool) throws(DomainError) {
    guard let text else { return }
    // Characters never outnumber UTF-8 bytes: count them only when the bytes are over.
    if text.utf8.count > maximumTextLength, text.count > maximumTextLength {
        throw DomainError(.text, "\(what): \(text.count) characters, over the limit of \(maximumTextLength)")
    }
    if !asStored, text.unicodeScalars.allSatisfy(\.isInvisible) {
        throw DomainError(.text, "\(what) must not be blank: give none instead")
    }
}


extension String {
    /// The string without blank scalars (`Unicode.Scalar.isBlank(newlines: true)`) at either end.
    func trimmingWhiteSpace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.isBlank(newlines: true) }),
              let last = scalars.lastIndex(where: { !$0.isBlank(newlines: true) })
        else { return "" }
        return String(scalars[first...last])
    }
}

extension String {
    /// Whether each of the string's scalars shows nothing where it stands, so that two texts
    /// would print alike with it and without it: a `Default_Ignorable_Code_Point` (a zero-width
    /// space, a soft hyphen, a word joiner, a byte-order mark…) other than a bidirectional control
    /// (named apart), but for those that shape what is around them and show in it: a joiner or a
    /// variation selector inside an emoji (`👩‍💻`, `❤️`), tags after a black flag (`🏴󠁧󠁢󠁳󠁣󠁴󠁿`), and
    /// the joiner and non-joiner after a letter of a script that joins its letters (Arabic,
    /// Hebrew to Myanmar), where they change how a word is drawn.
    public var scalarsShowingNothing: [Bool] {
        var hidden: [Bool] = []
        var previous: Unicode.Scalar?
        var inEmoji = false, inTags = false
        for scalar in unicodeScalars {
            let value = scalar.value
            switch value {
            case 0x200C, 0x200D:
                let joinsLetters = previous.map { (0x0590...0x109F).contains($0.value) && $0.properties.isAlphabetic } ?? false
                hidden.append(!(joinsLetters || (value == 0x200D && inEmoji)))
            case 0xFE00...0xFE0F, 0xE0100...0xE01EF: hidden.append(!inEmoji)
            case 0xE0020...0xE007F: hidden.append(!inTags)
            default: hidden.append(scalar.properties.isDefaultIgnorableCodePoint && !scalar.properties.isBidiControl)
            }
            let sequel = value == 0x200D || (0xFE00...0xFE0F).contains(value) || (0x1F3FB...0x1F3FF).contains(value)
            inEmoji = (value > 0x7F && scalar.properties.isEmoji) || (inEmoji && sequel)
            inTags = value == 0x1F3F4 || (inTags && (0xE0020...0xE007F).contains(value))
            previous = scalar
        }
        return hidden
    }
}

extension Unicode.Scalar {
    /// Whether the scalar shows nothing by itself: blank (line breaks included), or a code point
    /// that Unicode has text show nothing for where it is not supported (`Default_Ignorable_Code_Point`:
    /// the zero-width joiner and non-joiner, the word joiner, a byte-order mark, a soft hyphen,
    /// bidirectional marks, the Hangul fillers…), a control character (C0, DEL and C1: most
    /// terminals draw nothing for them, or act on them), or the blank Braille pattern, drawn as
    /// a space. A new name, actor or note of these alone is blank.
    var isInvisible: Bool {
        isBlank(newlines: true) || properties.isDefaultIgnorableCodePoint || properties.generalCategory == .control || value == 0x2800
    }

    /// Whether the scalar is white space as the rules have always read it (Foundation's `.whitespaces`,
    /// or `.whitespacesAndNewlines` with `newlines`): tab, the space separators and the zero-width
    /// space; with `newlines`, also line feed to carriage return, next line and the line and
    /// paragraph separators.
    func isBlank(newlines: Bool) -> Bool {
        switch value {
        case 0x09, 0x20, 0xA0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000: true
        case 0x0A...0x0D, 0x85, 0x2028, 0x2029: newlines
        default: false
        }
    }
}
