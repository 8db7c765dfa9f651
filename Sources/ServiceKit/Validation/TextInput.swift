/// How free text from clients is measured and trimmed, the same way the OpenAPI document
/// states it, so a request its schema allows is accepted and one it refuses is refused:
/// lengths count Unicode code points of the text as sent (JSON Schema's `maxLength`), and
/// trimming removes the white space the schemas' patterns name code point by code point.
public enum TextInput {
    /// White space as the schemas' patterns list it (Unicode White_Space and the separators U+001C–U+001F).
    public static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }

    public static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(scalars[first...last])
    }

    /// The length a schema's `minLength`/`maxLength` measure.
    public static func length(_ text: String) -> Int { text.unicodeScalars.count }

    /// Trimmed; 400 `invalid_<field>` unless it is `range` long as sent and not only white space.
    public static func required(_ text: String, field: String, length range: ClosedRange<Int>, code: String? = nil) throws -> String {
        let trimmed = trimmed(text)
        guard range.contains(length(text)), !trimmed.isEmpty else {
            throw APIError.badRequest("\(field) must be \(range.lowerBound) to \(range.upperBound) characters", code: code ?? "invalid_\(field)")
        }
        return trimmed
    }

    /// Trimmed (empty allowed); 400 `code` when longer than `maxLength` as sent.
    public static func optional(_ text: String, field: String, maxLength: Int, code: String) throws -> String {
        guard length(text) <= maxLength else { throw APIError.badRequest("\(field) must be at most \(maxLength) characters", code: code) }
        return trimmed(text)
    }
}
