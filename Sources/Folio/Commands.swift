import Domain
import EventStore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Projections

/// What a write command was asked to do to a payment.
public typealias PaymentAction = Domain.PaymentAction

extension Store {
    /// Who records an action when nobody is named (the schema's `created_by` default).
    public static let defaultActor = "admin"

    // MARK: - Commands

    /// Creates a client (status `pending`).
    public func createClient(name: String, email: String? = nil, metadata: JSONValue = .object([:]), actor: String = Store.defaultActor) throws -> ClientRow {
        let client = options.ids()
        return try execute(client: client, actor: actor) { _, _ in
            .createClient(clientID: client, name: name, email: email, metadata: metadata)
        } answer: { try clientRow(client, in: $0) }
    }

    /// Issues the client a fresh activation token, drawn uniformly from the tokens never issued;
    /// a reissue retires the old one.
    public func issueToken(client reference: String, actor: String = Store.defaultActor) throws -> ClientRow {
        try execute(reference: reference, actor: actor) { model, client, _ in
            let issued = try model.issuedTokenCount
            let token = try drawToken(issuedCount: issued) { token in try model.tokenOwner(token) != nil }
            return .issueToken(clientID: client, token: token)
        } answer: { try clientRow($1, in: $0) }
    }

    /// Activates the client holding `token` (pending → active); again with the same token is a no-op.
    public func activate(token text: String, actor: String = Store.defaultActor) throws -> ClientRow {
        let token = try parseToken(text)
        return try write(actor: actor) { model in
            guard let owner = try model.tokenOwner(token) else {
                throw FolioError(.notFound, "token \(token) was never issued (rule 7: unknown tokens are refused)")
            }
            let state = try model.state(of: owner.client).state
            if owner.retired {
                let current = state.token.map { " by \($0)" } ?? ""
                throw FolioError(.refused, "token \(token) was retired when it was replaced\(current): an old activation link never opens pages again (rule 1)")
            }
            return (owner.client, .activate(clientID: owner.client, token: token))
        } answer: { try clientRow($1, in: $0) }
    }

    /// Drafts a new content version; Folio assigns its version number (1, 2, 3… per page).
    public func draftVersion(
        client reference: String, page: PageType, content: JSONValue, notes: String? = nil, hypothesis: String? = nil,
        createdBy: String = Store.defaultActor, metadata: JSONValue = .object([:])
    ) throws -> VersionRow {
        let version = options.ids()
        let content = CanonicalJSON(content)
        return try execute(reference: reference, actor: createdBy) { _, client, _ in
            .draftVersion(
                clientID: client, versionID: version, pageType: page, content: content, iterationNotes: notes,
                hypothesis: hypothesis, createdBy: createdBy, metadata: metadata
            )
        } answer: { model, _ in try versionRow(version, in: model) }
    }

    /// Makes `version` the current one for its page, demoting the previous one in the same step.
    public func promote(version: String, actor: String = Store.defaultActor) throws -> VersionRow {
        let id = try parseVersionID(version)
        return try write(actor: actor) { model in
            let client = try owner(ofVersion: id, model: model)
            return (client, .promoteVersion(clientID: client, versionID: id))
        } answer: { model, _ in try versionRow(id, in: model) }
    }

    /// Records what happened with a version (`success`, `failure`, `pending`).
    public func recordOutcome(version: String, outcome: Outcome, notes: String? = nil, actor: String = Store.defaultActor) throws -> VersionRow {
        let id = try parseVersionID(version)
        return try write(actor: actor) { model in
            let client = try owner(ofVersion: id, model: model)
            return (client, .recordOutcome(clientID: client, versionID: id, outcome: outcome, notes: notes))
        } answer: { model, _ in try versionRow(id, in: model) }
    }

    /// Records a payment event for a Stripe payment intent. The same intent reported again with
    /// the same status is a no-op (webhooks retry), and so is a late report of a step a payment
    /// that succeeded or was cancelled is past (a start, a failure): the row answered then keeps
    /// its status.
    public func payment(
        _ action: PaymentAction, client reference: String, intent: String, amount: Int64, version: String? = nil,
        reason: String? = nil, actor: String = Store.defaultActor
    ) throws -> PaymentRow {
        let versionID = try version.map(parseVersionID)
        let paymentID = options.ids()
        var storedPayment = paymentID
        // An intent no rule could take is refused here, by the rule for new ones; one an earlier
        // Folio may have stored is left to the rules, which hold one new to the client to ASCII.
        do { try checkStoredIntent(intent) } catch {
            do { try checkIntent(intent) } catch { throw FolioError.wrapping(error) }
        }
        return try execute(reference: reference, actor: actor) { model, client, state in
            // Checked before the client's own rules, which cannot tell another client's version
            // or intent from one that does not exist.
            try model.checkIntent(intent, of: client)
            if let versionID { try model.checkVersion(versionID, of: client, for: .payment) }
            storedPayment = state.payments[intent]?.paymentID ?? paymentID
            return .payment(action, clientID: client, paymentID: paymentID, intent: intent, amount: amount, contentVersionID: versionID, reason: reason)
        } answer: { model, client in
            guard let row = try model.payment(id: storedPayment) else {
                throw FolioError(.notFound, "payment \(storedPayment.lowercased) of client \(client.lowercased) is not in the read model")
            }
            return row
        }
    }

    /// Deletes a client: its rows leave the read models; the log keeps its history.
    /// - Returns: the client's row as it was before the deletion.
    public func deleteClient(_ reference: String, actor: String = Store.defaultActor) throws -> ClientRow {
        var before: ClientRow?
        return try execute(reference: reference, actor: actor) { model, client, _ in
            // A client deleted already has no row; the rules refuse it, naming that.
            before = try projections.read(in: model.session) { try $0.client(id: client) }
            return .deleteClient(clientID: client)
        } answer: { _, client in
            guard let before else { throw FolioError.deletedClient(client) }
            return before
        }
    }

    // MARK: - Lookups

    /// The client a `CLIENT` argument names: a client's UUID or its current activation token.
    public func resolveClient(_ reference: String) throws -> UUID {
        try log.read { session in
            let id = try resolve(reference, lookup: { token in try tokenOwner(token, in: session) })
            // A client that ever existed (deleted ones too) has a state; a mistyped id has none.
            guard try session.transaction.withValue(indexes.clients, id.bytes, { $0 != nil }) else { throw FolioError.unknownClient(id) }
            return id
        }
    }

    /// Refuses a `CLIENT` that names no client, or one that was deleted, as a command on it would:
    /// for a command to say so before it asks for what it reads from standard input. The command
    /// itself checks again, in its transaction.
    public func checkTakesActions(client reference: String) throws {
        do {
            try log.read { session in
                let id = try resolve(reference, lookup: { token in try tokenOwner(token, in: session) })
                try Domain.checkTakesActions(WriteModel.state(of: id, in: session.transaction, indexes: indexes).state, client: id)
            }
        } catch {
            throw FolioError.wrapping(error)
        }
    }

    /// The client `reference` names or named: its id, or the client its token was issued to
    /// (a token is issued once, ever), retired since or not; `nil` for a token never issued or
    /// text that is neither. Unchecked otherwise: for scoping a fold to one client's stream.
    public func clientEver(named reference: String) throws -> UUID? {
        if let id = UUID(uuidString: reference) { return id }
        guard let token = try? Token(reference) else { return nil }
        return try log.read { session in try tokenOwner(token, in: session)?.client }
    }

    /// The client `token` was issued to, and whether it was retired since; `nil` when never issued.
    func tokenOwner(_ token: Token, in session: ReadSession) throws -> TokenOwner? {
        try session.transaction.withValue(indexes.tokens, Array(token.description.utf8)) { value in
            try value.map { try TokenOwner(stored: $0, token: token) }
        }
    }

    /// The client `reference` names in `model`, the read model as it stood at `point` of the
    /// log: a token names the client whose token it was then, whether or not it was retired since.
    public func resolveClient(_ reference: String, in model: ReadModel, asOf point: AsOf) throws -> UUID {
        guard UUID(uuidString: reference) == nil, reference.first == "G" else { return try resolveClient(reference) }
        let token = try parseToken(reference)
        guard let row = try model.client(token: token) else {
            guard let owner = try log.read({ try tokenOwner(token, in: $0) }) else {
                throw FolioError(.notFound, "token \(token) was never issued (rule 7: unknown tokens are refused)")
            }
            // A token whose client was deleted by then was issued before: the deletion is why.
            if let deleted = try lifetime(ofClient: owner.client).deleted, deleted.isReached(by: point) {
                throw FolioError.deletedClient(owner.client, at: deleted)
            }
            let (issued, retired) = try lifetime(ofToken: token, client: owner.client)
            if let retired, retired.isReached(by: point) {
                throw FolioError(.notFound, "token \(token) was retired by then: client \(owner.client.lowercased)'s token was replaced \(retired); use the client's id, or the token it had then (rule 1)")
            }
            if let issued, !issued.isReached(by: point) {
                throw FolioError(.notFound, "token \(token) was not issued yet at that point of the log: it was issued to client \(owner.client.lowercased) \(issued)")
            }
            throw FolioError(.notFound, "token \(token) named no client at that point of the log (rule 7: unknown tokens are refused)")
        }
        return row.id
    }

    /// Where `token` was issued to `client` in the log, and where it was retired (`nil` while it
    /// is the client's token).
    func lifetime(ofToken token: Token, client: UUID) throws -> (issued: LogMark?, retired: LogMark?) {
        try log.read { session in
            var issued: LogMark?, retired: LogMark?
            try session.scan(stream: Event.stream(for: client)) { view in
                guard view.hasType(EventType.tokenIssued.rawValue) else { return true }
                let event = try view.withPayload { try Event.decode(type: view.type, schemaVersion: Int(view.schemaVersion), payload: $0) }
                guard case .tokenIssued(let issue) = event else { return true }
                let mark = LogMark(position: view.position, microseconds: view.recordedAtMicroseconds)
                if issue.activationToken == token { issued = mark }
                if issue.replaces == token { retired = mark }
                return retired == nil
            }
            return (issued, retired)
        }
    }

    /// Where the client `id` was created and, if it was, deleted in the log (`nil`s for a client
    /// the store does not know).
    public func lifetime(ofClient id: UUID) throws -> (created: LogMark?, deleted: LogMark?) {
        try log.read { session in
            var created: LogMark?, deleted: LogMark?
            try session.scan(stream: Event.stream(for: id)) { view in
                let mark = LogMark(position: view.position, microseconds: view.recordedAtMicroseconds)
                if created == nil { created = mark }
                if view.hasType(EventType.clientDeleted.rawValue) { deleted = mark }
                return true
            }
            return (created, deleted)
        }
    }

    /// Why the client `id`, which the store knows, has no row in the read model as of `point`:
    /// deleted by then, or not created yet.
    public func absentClient(_ id: UUID, asOf point: AsOf) throws -> FolioError {
        let (created, deleted) = try lifetime(ofClient: id)
        if let deleted, deleted.isReached(by: point) { return .deletedClient(id, at: deleted) }
        guard let created else { return .unknownClient(id) }
        guard !created.isReached(by: point) else {
            return FolioError(.notFound, "client \(id.lowercased) has no row in the read model at that point of the log, though it was created \(created) and not deleted by then")
        }
        return FolioError(.notFound, "client \(id.lowercased) was not created yet at that point of the log: it was created \(created)")
    }

    /// Why the content version `id`, drafted by `client`, has no row in the read model as of
    /// `point`: its client was deleted by then, or it was not drafted yet.
    public func absentVersion(_ id: UUID, client: UUID, asOf point: AsOf) throws -> FolioError {
        if let deleted = try lifetime(ofClient: client).deleted, deleted.isReached(by: point) {
            return .deletedVersion(id, client: client, at: deleted)
        }
        return FolioError(.notFound, "content version \(id.lowercased) was not drafted yet at that point of the log")
    }

    /// The content version `text` names (its UUID), refused unless some client drafted it.
    public func resolveVersion(_ text: String) throws -> UUID {
        let id = try parseVersionID(text)
        guard try versionOwner(id) != nil else { throw FolioError.unknownVersion(id) }
        return id
    }

    /// The client that drafted the content version `id` (deleted or not), `nil` for none.
    public func versionOwner(_ id: UUID) throws -> UUID? {
        try log.read { session in
            try session.transaction.withValue(indexes.versions, id.bytes) { try $0.map { try UUID(stored: $0, "the version index's entry for \(id.lowercased)") } }
        }
    }

    func resolve(_ reference: String, lookup: (Token) throws -> TokenOwner?) throws -> UUID {
        if let id = UUID(uuidString: reference) { return id }
        guard reference.first == "G" || reference.first == "g" else {
            throw FolioError(.invalidInput, "\"\(reference)\" is neither a client UUID nor an activation token (G + 4 digits)")
        }
        let token = try parseToken(reference)
        guard let owner = try lookup(token) else {
            throw FolioError(.notFound, "token \(token) was never issued (rule 7: unknown tokens are refused)")
        }
        if owner.retired {
            // Named, for an audit that holds only an old link; the token itself opens nothing.
            throw FolioError(.refused, "token \(token) was retired when client \(owner.client.lowercased)'s token was replaced: use the client's id or current token (rule 1)")
        }
        return owner.client
    }

    func parseToken(_ text: String) throws -> Token {
        do { return try Token(text) } catch { throw FolioError.wrapping(error) }
    }

    func parseVersionID(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else {
            throw FolioError(.invalidInput, "\"\(text)\" is not a content version id (a UUID)")
        }
        return id
    }

    func owner(ofVersion id: UUID, model: WriteModel) throws -> UUID {
        guard let owner = try model.versionOwner(id) else {
            throw FolioError.unknownVersion(id)
        }
        return owner
    }

    func clientRow(_ id: UUID, in model: ReadModel) throws -> ClientRow {
        guard let row = try model.client(id: id) else {
            throw FolioError.unknownClient(id)
        }
        return row
    }

    func versionRow(_ id: UUID, in model: ReadModel) throws -> VersionRow {
        guard let row = try model.version(id: id) else {
            throw FolioError.unknownVersion(id)
        }
        return row
    }

    // MARK: - The command path

    /// Runs a command on the client named by `reference` (UUID or current token).
    func execute<T>(
        reference: String, actor: String, _ command: (WriteModel, UUID, ClientState) throws -> Command,
        answer: (ReadModel, UUID) throws -> T
    ) throws -> T {
        try write(actor: actor, { model in
            let client = try resolve(reference, lookup: { try model.tokenOwner($0) })
            return (client, try command(model, client, try model.state(of: client).state))
        }, answer: answer)
    }

    /// Runs a command on the client `client`.
    func execute<T>(client: UUID, actor: String, _ command: (WriteModel, ClientState) throws -> Command, answer: (ReadModel) throws -> T) throws -> T {
        try write(actor: actor) { model in (client, try command(model, try model.state(of: client).state)) } answer: { model, _ in try answer(model) }
    }

    /// One write transaction: decide, append, index, project, answer from the read models as the
    /// transaction left them (for the command's client), commit (synced). An idempotent repeat
    /// appends nothing and answers all the same, and `Options.unchanged` is told why.
    func write<T>(
        actor: String = Store.defaultActor, _ makeCommand: (WriteModel) throws -> (UUID, Command),
        answer: (ReadModel, UUID) throws -> T
    ) throws -> T {
        var ahead: AppendResult.ClockLag?
        var unchanged: String?
        do {
            try checkActor(actor)
            let answered = try log.write { session in
                ahead = nil
                let model = WriteModel(session: session, indexes: indexes)
                let (client, command) = try makeCommand(model)
                let (version, state) = try model.state(of: client)
                let decided = try decision(command, state: state)
                unchanged = decided.unchanged
                let events = decided.events
                for event in events { try model.checkAcrossClients(event) }
                if !events.isEmpty {
                    let recordedAt = options.clock?()
                    let proposed = events.map { event in
                        ProposedEvent(
                            id: options.ids(), type: event.type.rawValue, schemaVersion: UInt16(event.type.currentSchemaVersion),
                            payload: Array(event.encodePayload()), actor: actor, recordedAt: recordedAt
                        )
                    }
                    let result = try session.append(proposed, to: Event.stream(for: client), expected: version == 0 ? .noStream : .exactly(version))
                    // New ids are never in the log: one that is means ids repeat, and the command's
                    // events would be taken for repeats of those and never appended.
                    guard !result.wasDuplicate else {
                        throw FolioError(.store, "the new event's id \(proposed[0].id.lowercased) is already in the log: ids must not repeat; nothing was written")
                    }
                    ahead = result.aheadOfClock
                    // Only a commit that records something carries the command out.
                    session.writer.aroundCommit = options.committingCommand
                    try model.record(events, streamVersion: result.streamVersion)
                    try model.flush()
                    try projections.catchUp(in: session)
                }
                return try projections.read(in: session) { try answer($0, client) }
            }
            // Said once the command is committed: a refused one recorded nothing.
            if let ahead { options.recordedAheadOfClock?(ahead.recorded, ahead.clock) }
            if let unchanged { options.unchanged?(unchanged) }
            return answered
        } catch {
            throw FolioError.wrapping(error)
        }
    }
}
