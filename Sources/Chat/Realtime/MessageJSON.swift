import Foundation
import SocketIO

extension MessageView {
    /// The message as a Socket.IO argument, built directly: the same value as
    /// `JSONValue(encoding:)` (keys sorted, dates ISO 8601 in whole seconds, no `file` key
    /// without a file) without a trip through Foundation's encoder and back, which cost a
    /// third of a stored message's CPU when it was made twice per send.
    var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("_id", .string(_id)),
            ("chatId", .string(chatId)),
            ("createdAt", .string(ISO8601Seconds.format(createdAt))),
        ]
        if let file {
            members.append(("file", [
                "contentType": .string(file.contentType),
                "fileId": .string(file.fileId),
                "mimeType": .string(file.mimeType),
                "name": .string(file.name),
                "size": .number(Double(file.size)),
                "url": .string(file.url),
            ]))
        }
        members += [
            ("id", .string(id)),
            ("readBy", .array(readBy.map(JSONValue.string))),
            ("senderId", .string(senderId)),
            ("text", .string(text)),
            ("updatedAt", .string(ISO8601Seconds.format(updatedAt))),
        ]
        return .object(members)
    }
}

/// `2026-12-07T16:40:50Z`: what JSONEncoder's `.iso8601` writes (UTC, whole seconds,
/// the fraction dropped), from the date's arithmetic alone.
enum ISO8601Seconds {
    static func format(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let inDay = seconds - days * 86_400
        // Days since 1970 to a civil date (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        var out = ""
        out.reserveCapacity(20)
        func two(_ n: Int) { if n < 10 { out += "0" }; out += String(n) }
        let yearText = String(year)
        out += String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText
        out += "-"; two(month); out += "-"; two(day)
        out += "T"; two(inDay / 3600); out += ":"; two(inDay / 60 % 60); out += ":"; two(inDay % 60)
        out += "Z"
        return out
    }
}
