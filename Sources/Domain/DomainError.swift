/// A rule of the domain said no, or an event could not be read.
///
/// `message` is one line naming the thing and the rule, e.g. "token G0427 is already issued
/// (rule 1: a token is never issued twice)".
public struct DomainError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        fileprivate init(_ name: String) { self.name = name }
        public var description: String { name }

        public static let tokenFormat = Code("tokenFormat")
        public static let tokenAlreadyIssued = Code("tokenAlreadyIssued")
        public static let tokenRetired = Code("tokenRetired")
        public static let tokenMismatch = Code("tokenMismatch")
        public static let tokensExhausted = Code("tokensExhausted")
        public static let unknownClient = Code("unknownClient")
        public static let clientExists = Code("clientExists")
        public static let clientDeleted = Code("clientDeleted")
        public static let statusTransition = Code("statusTransition")
        public static let pageType = Code("pageType")
        public static let outcome = Code("outcome")
        public static let contentNotObject = Code("contentNotObject")
        public static let metadataNotObject = Code("metadataNotObject")
        public static let jsonInvalid = Code("jsonInvalid")
        public static let jsonTooLarge = Code("jsonTooLarge")
        public static let jsonTooDeep = Code("jsonTooDeep")
        public static let unknownVersion = Code("unknownVersion")
        public static let versionExists = Code("versionExists")
        public static let versionOfAnotherClient = Code("versionOfAnotherClient")
        public static let intentMismatch = Code("intentMismatch")
        public static let paymentTransition = Code("paymentTransition")
        public static let amount = Code("amount")
        public static let intent = Code("intent")
        public static let name = Code("name")
        public static let email = Code("email")
        public static let actor = Code("actor")
        public static let text = Code("text")
        public static let unknownEventType = Code("unknownEventType")
        public static let invalidPayload = Code("invalidPayload")
        public static let eventMismatch = Code("eventMismatch")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A business refusal (a rule), as opposed to an event that could not be read.
    public var isRefusal: Bool { code != .unknownEventType && code != .invalidPayload }

    public var description: String { message }

    /// Rule 6's refusal of an amount, written as given (`amount` may be past 64 bits).
    public static func amountRefused(_ amount: String) -> DomainError {
        DomainError(.amount, "amount \(amount) is not allowed: it is a positive whole number of cents up to \(maximumAmount) (rule 6)")
    }
}

extension String {
    /// Two keys that are one text in two Unicode forms, quoted for a one-line message, each with
    /// its scalars (`"é" (U+00E9) and "é" (U+0065 U+0301)`) when it is short enough to list them.
    public static func equivalentKeys(_ first: String, _ second: String) -> String {
        func quoted(_ key: String) -> String {
            let scalars = key.unicodeScalars.map { scalar in
                let hex = String(scalar.value, radix: 16, uppercase: true)
                return "U+" + String(repeating: "0", count: Swift.max(0, 4 - hex.count)) + hex
            }
            return "\"\(key.shortened)\"" + (scalars.count <= 12 ? " (\(scalars.joined(separator: " ")))" : "")
        }
        return "the keys \(quoted(first)) and \(quoted(second))"
    }

    /// Why JSON holding two keys that are one text in two Unicode forms is refused: "holds the
    /// keys … in one object: …", as a command's input and an import line say it.
    public static func equivalentKeysRefused(_ first: String, _ second: String) -> String {
        "holds \(equivalentKeys(first, second)) in one object: the same text in two Unicode forms, which Folio takes for one key (write both alike)"
    }

    /// The text cut to 40 characters ("…" ending it when cut), to quote a value in a one-line message.
    public var shortened: String {
        guard let end = index(startIndex, offsetBy: 40, limitedBy: endIndex), end != endIndex else { return self }
        return prefix(39) + "…"
    }
}
