/// The syntax of `gateway.conf`, apart from what the directives mean: statements
/// `name arg ...;` or `name arg ... { statements }`, each on one line, `#` comments to the end of a line,
/// and "double-quoted" arguments (with \" and \\) for values holding spaces or `;`.
enum ConfigSyntax {
    struct Statement: Sendable {
        let file: String
        let line: Int
        let name: String
        let arguments: [String]
        /// The block's statements; nil for a `;` statement.
        let children: [Statement]?
    }

    enum Token: Equatable {
        case word(String)
        case open, close, end
    }

    static func parse(_ text: String, file: String) throws -> [Statement] {
        let tokens = try tokenize(text, file: file)
        var position = 0
        let statements = try block(tokens, &position, file: file, closing: false)
        return statements
    }

    private static func block(_ tokens: [(Token, Int)], _ position: inout Int, file: String, closing: Bool) throws -> [Statement] {
        var statements: [Statement] = []
        while position < tokens.count {
            let (token, line) = tokens[position]
            switch token {
            case .close:
                guard closing else { throw GatewayConfigError(file: file, line: line, reason: "unexpected }") }
                position += 1
                return statements
            case .open: throw GatewayConfigError(file: file, line: line, reason: "unexpected { (a block needs a name)")
            case .end: throw GatewayConfigError(file: file, line: line, reason: "unexpected ; (empty statement)")
            case .word(let name):
                position += 1
                var arguments: [String] = []
                while position < tokens.count, case .word(let argument) = tokens[position].0 {
                    // One statement per line: a word on the next line means a forgotten `;`.
                    guard tokens[position].1 == line else {
                        throw GatewayConfigError(file: file, line: line, reason: "\"\(name)\" is not finished: add ; at the end of the line")
                    }
                    arguments.append(argument)
                    position += 1
                }
                guard position < tokens.count else {
                    throw GatewayConfigError(file: file, line: line, reason: "\"\(name)\" is not finished: add ; or a { } block")
                }
                if tokens[position].0 == .end {
                    position += 1
                    statements.append(Statement(file: file, line: line, name: name, arguments: arguments, children: nil))
                } else if tokens[position].0 == .open {
                    position += 1
                    let children = try block(tokens, &position, file: file, closing: true)
                    statements.append(Statement(file: file, line: line, name: name, arguments: arguments, children: children))
                } else {
                    throw GatewayConfigError(file: file, line: tokens[position].1, reason: "unexpected } after \"\(name)\": add ;")
                }
            }
        }
        if closing { throw GatewayConfigError(file: file, line: tokens.last?.1 ?? 0, reason: "a { block is not closed") }
        return statements
    }

    static func tokenize(_ text: String, file: String) throws -> [(Token, Int)] {
        var tokens: [(Token, Int)] = []
        var line = 1
        var word = ""
        var chars = Array(text.unicodeScalars)[...]
        func flush() {
            if !word.isEmpty { tokens.append((.word(word), line)) }
            word = ""
        }
        while let c = chars.popFirst() {
            switch c {
            case "\n":
                flush()
                line += 1
            case " ", "\t", "\r": flush()
            case "#":
                flush()
                while let next = chars.first, next != "\n" { chars.removeFirst() }
            case ";": flush(); tokens.append((.end, line))
            case "{": flush(); tokens.append((.open, line))
            case "}": flush(); tokens.append((.close, line))
            case "\"":
                flush()
                var quoted = ""
                let start = line
                var closed = false
                while let q = chars.popFirst() {
                    if q == "\"" { closed = true; break }
                    if q == "\n" { line += 1 }
                    if q == "\\", let escaped = chars.popFirst() {
                        quoted.unicodeScalars.append(escaped)
                    } else {
                        quoted.unicodeScalars.append(q)
                    }
                }
                guard closed else { throw GatewayConfigError(file: file, line: start, reason: "a quoted string is not closed") }
                tokens.append((.word(quoted), start))
            default:
                guard c.value >= 0x20, c.value != 0x7F else {
                    throw GatewayConfigError(file: file, line: line, reason: "control character in the file")
                }
                word.unicodeScalars.append(c)
            }
        }
        flush()
        return tokens
    }
}
