#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The pieces every process's JSON log lines are written from, by hand into bytes: the
/// gateway's access log and the services' log handler write the same lines, and
/// Foundation's JSON and date formatting cost more than the request a line describes.
public enum LogText {
    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string, RFC 8259 escaping: quote, backslash and control characters; "/" and
    /// non-ASCII as they are.
    public static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendEscaped(string.utf8, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// The inside of a JSON string (no quotes).
    public static func appendEscaped(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { appendEscaped(contiguous: $0, to: &out) }
        if done == nil { for byte in bytes { appendEscaped(byte, to: &out) } }
    }

    /// Runs that need no escaping (most of a line) are copied whole.
    private static func appendEscaped(contiguous bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var start = 0
        for index in bytes.indices {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
            appendEscaped(byte, to: &out)
            start = index + 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
    }

    private static func appendEscaped(_ byte: UInt8, to out: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(byte)
        case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
        case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
        case 0..<0x20:
            out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
        default: out.append(byte)
        }
    }

    /// A non-negative integer's decimal digits.
    public static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        guard value > 0 else { return out.append(UInt8(ascii: "0")) }
        let start = out.count
        var rest = value
        while rest > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        }
        out[start...].reverse()
    }
}

/// UTC timestamps as ISO 8601 with milliseconds (`2026-12-02T15:04:05.123Z`), from the
/// clock and integer arithmetic alone.
public enum LogTime {
    public static func now() -> String {
        var out: [UInt8] = []
        appendNow(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The current time, appended.
    public static func appendNow(to out: inout [UInt8]) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        append(seconds: Int64(spec.tv_sec), milliseconds: Int(spec.tv_nsec / 1_000_000), to: &out)
    }

    /// Without milliseconds when `milliseconds` is nil (`2026-12-02T15:04:05Z`, what
    /// JSONEncoder's `.iso8601` writes).
    public static func format(seconds: Int64, milliseconds: Int?) -> String {
        var out: [UInt8] = []
        append(seconds: seconds, milliseconds: milliseconds, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func append(seconds: Int64, milliseconds: Int?, to out: inout [UInt8]) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4); out.append(UInt8(ascii: "-")); digits(month, 2); out.append(UInt8(ascii: "-")); digits(day, 2)
        out.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2); out.append(UInt8(ascii: ":")); digits(secondOfDay / 60 % 60, 2); out.append(UInt8(ascii: ":")); digits(secondOfDay % 60, 2)
        if let milliseconds { out.append(UInt8(ascii: ".")); digits(milliseconds, 3) }
        out.append(UInt8(ascii: "Z"))
    }
}
