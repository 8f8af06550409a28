import Domain
import Foundation

/// Rows that can write themselves as Foundation objects for `JSONSerialization`, which encodes
/// several times faster than `JSONEncoder` going through `Codable`. The objects decode with the
/// rows' `Codable` conformances: same keys, same value forms.
protocol FoundationEncodable {
    var foundationObject: Any { get }
}

extension JSONValue {
    /// This value as `JSONSerialization` takes it.
    var foundationObject: Any {
        switch self {
        case .null: NSNull()
        case .bool(let value): value
        case .integer(let value): value
        case .double(let value): value
        case .string(let value): value
        case .array(let values): values.map(\.foundationObject)
        case .object(let fields): fields.mapValues(\.foundationObject)
        }
    }
}

private func optional(_ value: Any?) -> Any { value ?? NSNull() }
private func time(_ date: Date) -> String { Timestamp.format(date) }

extension ClientRow: FoundationEncodable {
    var foundationObject: Any {
        [
            "id": id.lowercased, "name": name, "email": optional(email), "activation_token": optional(activationToken?.description),
            "current_version_id": optional(currentVersionID?.lowercased), "status": status.rawValue, "metadata": metadata.foundationObject,
            "created_at": time(createdAt), "activated_at": optional(activatedAt.map(time)), "updated_at": time(updatedAt),
        ] as [String: Any]
    }
}

extension VersionRow: FoundationEncodable {
    var foundationObject: Any {
        [
            "id": id.lowercased, "client_id": clientID.lowercased, "page_type": pageType.rawValue, "content": content.foundationObject,
            "iteration_notes": optional(iterationNotes), "hypothesis": optional(hypothesis), "outcome": optional(outcome?.rawValue),
            "is_current": isCurrent, "version_number": versionNumber, "created_at": time(createdAt), "created_by": createdBy,
            "metadata": metadata.foundationObject, "promoted_at": optional(promotedAt.map(time)), "demoted_at": optional(demotedAt.map(time)),
        ] as [String: Any]
    }
}

extension PaymentRow: FoundationEncodable {
    var foundationObject: Any {
        [
            "id": id.lowercased, "client_id": clientID.lowercased, "content_version_id": optional(contentVersionID?.lowercased),
            "stripe_payment_intent_id": stripePaymentIntentID, "amount": amount, "status": status.rawValue,
            "created_at": time(createdAt), "updated_at": time(updatedAt), "failure_reason": optional(failureReason),
        ] as [String: Any]
    }
}

extension VersionStatsRow: FoundationEncodable {
    var foundationObject: Any {
        [
            "clientID": clientID.uuidString, "pageType": pageType.rawValue, "versionNumber": versionNumber,
            "outcome": optional(outcome?.rawValue), "exposed": exposed, "succeeded": succeeded, "failed": failed, "revenue": revenue,
        ] as [String: Any]
    }
}

extension PaymentStatsRow: FoundationEncodable {
    var foundationObject: Any {
        [
            "versionID": optional(versionID?.uuidString), "clientID": clientID.uuidString, "status": status.rawValue, "amount": amount,
        ] as [String: Any]
    }
}

extension FunnelRow: FoundationEncodable {
    var foundationObject: Any {
        // Codable's default for Date: seconds since 2001-01-01.
        [
            "createdAt": createdAt.timeIntervalSinceReferenceDate,
            "tokenIssuedAt": optional(tokenIssuedAt?.timeIntervalSinceReferenceDate),
            "activatedAt": optional(activatedAt?.timeIntervalSinceReferenceDate),
            "paidAt": optional(paidAt?.timeIntervalSinceReferenceDate),
        ] as [String: Any]
    }
}

extension UUID: FoundationEncodable {
    var foundationObject: Any { uuidString }
}
