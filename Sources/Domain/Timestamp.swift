#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// ISO 8601 UTC timestamps with microseconds, the precision the log keeps.
///
/// Written as `2026-11-25T09:30:00.123456Z`; read with 0 to 6 fractional digits.
public enum Timestamp {
    /// Formats microseconds since 1970 as ISO 8601 UTC.
    public static func format(microseconds: Int64) -> String {
        var bytes: [UInt8] = []
        append(microseconds: microseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends microseconds since 1970 as ISO 8601 UTC to `bytes` (27 bytes for years 0–9999).
    public static func append(microseconds: Int64, to bytes: inout [UInt8]) {
        let seconds = microseconds.floorDiv(1_000_000)
        let micros = Int(microseconds - seconds * 1_000_000)
        let days = seconds.floorDiv(86_400)
        let time = Int(seconds - days * 86_400)
        let (year, month, day) = civil(days: days)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        if (0...9999).contains(year) {
            digits(Int(year), 4)
        } else {
            // As C's "%04d" writes it: a sign, then at least three digits after a minus.
            let text = String(year.magnitude)
            if year < 0 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(0, (year < 0 ? 3 : 4) - text.utf8.count)))
            bytes.append(contentsOf: text.utf8)
        }
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(time / 3600, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(time / 60 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(time % 60, 2)
        bytes.append(UInt8(ascii: "."))
        digits(micros, 6)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
    static func civil(days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        let month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date; days past a month's end run into the next (as `timegm`).
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = year - (month <= 2 ? 1 : 0)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = Int64((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1)
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Formats a date as ISO 8601 UTC with microseconds.
    public static func format(_ date: Date) -> String {
        format(microseconds: microseconds(date))
    }

    /// Microseconds since 1970 of `date`, rounded, and no later than the last microsecond of the
    /// year 9999, the last a timestamp writes: a `Date` holds times that late to about 30
    /// microseconds, and 9999-12-31T23:59:59.999998Z would round into a year 10000 that no
    /// timestamp reads back (every read model row holding it was refused).
    public static func microseconds(_ date: Date) -> Int64 {
        min(Int64((date.timeIntervalSince1970 * 1_000_000).rounded()), latestMicroseconds)
    }

    /// 9999-12-31T23:59:59.999999Z.
    public static let latestMicroseconds: Int64 = 253_402_300_799_999_999

    /// Parses `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` (or a `+00:00` suffix) into microseconds; `nil` if
    /// malformed, finer than microseconds, or a second 60 anywhere but a day's last minute.
    public static func parse(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Parses UTF-8 bytes as `parse(_:)` does.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes.count >= 20, bytes[4] == 45, bytes[7] == 45, bytes[10] == 84 || bytes[10] == 32,
              bytes[13] == 58, bytes[16] == 58,
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
              // A leap second is the last of a UTC day, 23:59:60 (read as the next day's first).
              second < 60 || (second == 60 && hour == 23 && minute == 59)
        else { return nil }
        // No 30 February: a day past its month's end is refused, not rolled into the next.
        let lastDay = switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
        guard day <= lastDay else { return nil }
        var index = 19
        var micros = 0
        if bytes[index] == 46 {
            index += 1
            var digits = 0
            while index < bytes.count, (48...57).contains(bytes[index]) {
                // Finer than the log keeps: refused rather than cut to microseconds unseen.
                guard digits < 6 else { return nil }
                micros = micros * 10 + Int(bytes[index] - 48)
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            if digits < 6 { for _ in digits..<6 { micros *= 10 } }
        }
        let suffix = bytes[index...]
        guard suffix.elementsEqual("Z".utf8) || suffix.elementsEqual("+00:00".utf8) else { return nil }
        let days = days(year: Int64(year), month: month, day: day)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        // A leap second at the end of 9999 would be a time past any the log writes back.
        let microseconds = seconds * 1_000_000 + Int64(micros)
        return microseconds <= latestMicroseconds ? microseconds : nil
    }
}

extension Int64 {
    fileprivate func floorDiv(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
