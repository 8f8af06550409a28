import Domain
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Conversion figures for one content version or a group of them.
///
/// - `exposed`: the clients exposed: for a version, 1 once it has been current; for a group, the
///   clients who saw any of its versions;
/// - `payments_succeeded` / `payments_failed`: payments by their current status, counted for the
///   version in their `content_version_id`;
/// - `revenue`: the sum of succeeded amounts, in cents;
/// - `conversion_rate`: of the clients exposed, those with a succeeded payment on a version they
///   saw (of the group's) ÷ the clients exposed (0 when none was), so always within 0…1.
public struct Figures: Hashable, Sendable, Codable {
    public var exposed = 0
    public var converted = 0
    public var paymentsSucceeded = 0
    public var paymentsFailed = 0
    public var revenue: Int64 = 0

    public var conversionRate: Double { exposed == 0 ? 0 : Double(converted) / Double(exposed) }

    mutating func add(_ other: Figures) {
        exposed += other.exposed
        converted += other.converted
        paymentsSucceeded += other.paymentsSucceeded
        paymentsFailed += other.paymentsFailed
        revenue += other.revenue
    }

    /// The figures' columns, added to `fields`; the rate rounded to four places.
    func add(to fields: inout [String: JSONValue]) {
        fields["exposed"] = .integer(Int64(exposed))
        fields["payments_succeeded"] = .integer(Int64(paymentsSucceeded))
        fields["payments_failed"] = .integer(Int64(paymentsFailed))
        fields["revenue"] = .integer(revenue)
        fields["conversion_rate"] = .number((conversionRate * 10_000).rounded() / 10_000)
    }
}

/// Analytics of one content version.
public struct VersionFigures: Hashable, Sendable, Encodable {
    public var contentVersionID: UUID
    public var clientID: UUID
    public var pageType: PageType
    public var versionNumber: Int
    public var outcome: Outcome?
    public var figures: Figures

    /// The row as `analytics` prints it, under the documented column names.
    public var jsonValue: JSONValue {
        var fields: [String: JSONValue] = [
            "content_version_id": .string(contentVersionID.lowercased),
            "client_id": .string(clientID.lowercased),
            "page_type": .string(pageType.rawValue),
            "version_number": .integer(Int64(versionNumber)),
            "outcome": outcome.map { .string($0.rawValue) } ?? .null,
        ]
        figures.add(to: &fields)
        return .object(fields)
    }

    public func encode(to encoder: any Encoder) throws { try jsonValue.encode(to: encoder) }
}

/// Figures rolled up by a group: a page type, a version number or an outcome.
public struct GroupFigures: Hashable, Sendable, Encodable {
    /// The column the group is named by: `page_type`, `version_number` or `outcome`.
    public var key: String
    public var value: JSONValue
    public var figures: Figures

    /// The row as `analytics` prints it: the group's column, then the figures'.
    public var jsonValue: JSONValue {
        var fields = [key: value]
        figures.add(to: &fields)
        return .object(fields)
    }

    public func encode(to encoder: any Encoder) throws { try jsonValue.encode(to: encoder) }
}

/// How many clients reached each step, and the median time between steps.
public struct Funnel: Hashable, Sendable, Encodable {
    public var created = 0
    public var tokenIssued = 0
    public var activated = 0
    public var paid = 0
    /// Median seconds from creation to the first token, over the clients that have both.
    public var medianSecondsCreatedToTokenIssued: Double?
    public var medianSecondsTokenIssuedToActivated: Double?
    public var medianSecondsActivatedToPaid: Double?

    /// The funnel as `analytics` prints it: its counts, then its medians (`null` without any).
    public var jsonValue: JSONValue {
        .object([
            "created": .integer(Int64(created)),
            "token_issued": .integer(Int64(tokenIssued)),
            "activated": .integer(Int64(activated)),
            "paid": .integer(Int64(paid)),
            "median_seconds_created_to_token_issued": medianSecondsCreatedToTokenIssued.map(JSONValue.number) ?? .null,
            "median_seconds_token_issued_to_activated": medianSecondsTokenIssuedToActivated.map(JSONValue.number) ?? .null,
            "median_seconds_activated_to_paid": medianSecondsActivatedToPaid.map(JSONValue.number) ?? .null,
        ])
    }

    public func encode(to encoder: any Encoder) throws { try jsonValue.encode(to: encoder) }
}

/// Payment analytics: conversion by content version, its roll-ups, and the funnel.
public struct Analytics: Hashable, Sendable, Encodable {
    public var byVersion: [VersionFigures]
    public var byPageType: [GroupFigures]
    public var byVersionNumber: [GroupFigures]
    public var byOutcome: [GroupFigures]
    public var funnel: Funnel

    /// The analytics as `analytics --format json` prints them: a section of rows under each
    /// section's name, and the funnel.
    public var jsonObject: [String: JSONValue] {
        Dictionary(uniqueKeysWithValues: Self.sections.map { ($0, jsonValue(section: $0)!) })
    }

    /// The sections' names, as `jsonObject` holds them.
    public static let sections = ["by_version", "by_page_type", "by_version_number", "by_outcome", "funnel"]

    /// One section as `jsonObject` holds it (an array of rows, the funnel an object), made alone;
    /// `nil` for a name that is no section's.
    public func jsonValue(section: String) -> JSONValue? {
        switch section {
        case "by_version": .array(byVersion.map(\.jsonValue))
        case "by_page_type": .array(byPageType.map(\.jsonValue))
        case "by_version_number": .array(byVersionNumber.map(\.jsonValue))
        case "by_outcome": .array(byOutcome.map(\.jsonValue))
        case "funnel": funnel.jsonValue
        default: nil
        }
    }

    public func encode(to encoder: any Encoder) throws { try JSONValue.object(jsonObject).encode(to: encoder) }

    /// Rolls the per-version figures up and computes the funnel's medians. A group counts
    /// clients, as product.md's "clients exposed" does: a client who saw three of its versions is
    /// one client exposed, and one converted if any of them has a succeeded payment; payments and
    /// revenue are summed.
    init(versions: [VersionFigures], funnels: [FunnelRow]) {
        byVersion = versions
        func group<K: Hashable & Comparable>(_ key: String, _ value: (VersionFigures) -> K, _ json: (K) -> JSONValue) -> [GroupFigures] {
            var groups: [K: (figures: Figures, exposed: Set<UUID>, converted: Set<UUID>)] = [:]
            for version in versions {
                groups[value(version), default: (Figures(), [], [])].figures.add(version.figures)
                if version.figures.exposed > 0 { groups[value(version)]!.exposed.insert(version.clientID) }
                if version.figures.converted > 0 { groups[value(version)]!.converted.insert(version.clientID) }
            }
            return groups.keys.sorted().map { name in
                let group = groups[name]!
                var figures = group.figures
                figures.exposed = group.exposed.count
                figures.converted = group.converted.count
                return GroupFigures(key: key, value: json(name), figures: figures)
            }
        }
        byPageType = group("page_type", \.pageType) { .string($0.rawValue) }
        byVersionNumber = group("version_number", \.versionNumber) { .integer(Int64($0)) }
        byOutcome = group("outcome", { $0.outcome?.rawValue ?? "" }) { $0.isEmpty ? .null : .string($0) }
        var funnel = Funnel()
        // Microseconds between the steps, exactly: a `Date` keeps a time to a few tenths of a
        // microsecond, and a difference of two was off by that much, which could move a median
        // rounded to the millisecond (1.5 ms read 0.001).
        var toToken: [Int64] = [], toActivated: [Int64] = [], toPaid: [Int64] = []
        func between(_ start: Date, _ end: Date) -> Int64 { Timestamp.microseconds(end) - Timestamp.microseconds(start) }
        for row in funnels {
            funnel.created += 1
            if let token = row.tokenIssuedAt {
                funnel.tokenIssued += 1
                toToken.append(between(row.createdAt, token))
            }
            if let activated = row.activatedAt {
                funnel.activated += 1
                if let token = row.tokenIssuedAt { toActivated.append(between(token, activated)) }
            }
            if let paid = row.paidAt {
                funnel.paid += 1
                if let activated = row.activatedAt { toPaid.append(between(activated, paid)) }
            }
        }
        funnel.medianSecondsCreatedToTokenIssued = Self.median(toToken)
        funnel.medianSecondsTokenIssuedToActivated = Self.median(toActivated)
        funnel.medianSecondsActivatedToPaid = Self.median(toPaid)
        self.funnel = funnel
    }

    /// The median of `microseconds`, in seconds rounded to the millisecond (a half away from zero).
    static func median(_ microseconds: [Int64]) -> Double? {
        guard !microseconds.isEmpty else { return nil }
        let sorted = microseconds.sorted()
        let middle = sorted.count / 2
        // Twice the median, a whole number of microseconds, so that the rounding below is exact.
        let twice = sorted.count % 2 == 1 ? 2 * sorted[middle] : sorted[middle - 1] + sorted[middle]
        let milliseconds = (Double(twice) / 2_000).rounded()
        return milliseconds / 1_000
    }
}

/// The analytics projector's stored figures of one version.
struct VersionStatsRow: Codable, Hashable, Sendable {
    var clientID: UUID
    var pageType: PageType
    var versionNumber: Int
    var outcome: Outcome?
    var exposed: Bool
    var succeeded: Int
    var failed: Int
    var revenue: Int64
}

/// The analytics projector's view of one payment: where it counts and as what.
struct PaymentStatsRow: Codable, Hashable, Sendable {
    var versionID: UUID?
    var clientID: UUID
    var status: PaymentStatus
    var amount: Int64
}

/// When a client reached each step of the funnel (the first time).
struct FunnelRow: Codable, Hashable, Sendable {
    var createdAt: Date
    var tokenIssuedAt: Date?
    var activatedAt: Date?
    var paidAt: Date?
}
