import BSON
import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Profile
import ServiceKit
import ServiceTestSupport
import Testing

/// The OpenAPI document the gateway serves against the services that really run.
@Suite struct OpenAPIDocumentTests {
    static var document: [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("openapi.json")
        let data = (try? Data(contentsOf: url)) ?? Data()
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    static let methods: Set<String> = ["get", "put", "post", "patch", "delete"]

    /// `(method, public path)` for every documented operation.
    static var operations: [(method: String, path: String)] {
        let paths = document["paths"] as? [String: [String: Any]] ?? [:]
        return paths.flatMap { path, item in item.keys.filter(methods.contains).map { ($0, path) } }.sorted { ($0.path, $0.method) < ($1.path, $1.method) }
    }

    @Test func isOpenAPI31WithResolvableReferences() throws {
        #expect(Self.document["openapi"] as? String == "3.1.0")
        #expect(Self.operations.count >= 20)
        let schemas = Set(((Self.document["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]).keys)
        let text = String(decoding: try JSONSerialization.data(withJSONObject: Self.document), as: UTF8.self)
        let references = text.matches(of: /"\$ref":"#\\\/components\\\/schemas\\\/(\w+)"/).map { String($0.1) }
        #expect(!references.isEmpty)
        for name in Set(references) { #expect(schemas.contains(name), "\(name) is referenced but not defined") }
        var ids: [String] = []
        for item in (Self.document["paths"] as? [String: [String: Any]] ?? [:]).values {
            for (method, operation) in item where Self.methods.contains(method) {
                let operation = operation as? [String: Any] ?? [:]
                ids.append(operation["operationId"] as? String ?? "")
                #expect((operation["responses"] as? [String: Any])?.isEmpty == false)
            }
        }
        #expect(Set(ids).count == ids.count && !ids.contains(""), "every operation has its own operationId")
    }

    /// Every `pattern`, as the services check it. `\s`, `\w` and `\d` mean different sets to
    /// different engines (ECMA-262: ASCII `\w`, no U+0085 in `\s`; Python: Unicode), so a
    /// client's validator could pass "\u{85}" as a name the service refuses (a stress run's
    /// schemathesis did): the document names code points instead, the ones the services trim.
    @Test func patternsNameTheCharactersTheServicesCheck() throws {
        var patterns: [String] = []
        func collect(_ value: Any) {
            if let object = value as? [String: Any] {
                for (key, child) in object { if key == "pattern", let text = child as? String { patterns.append(text) } else { collect(child) } }
            } else if let array = value as? [Any] {
                array.forEach(collect)
            }
        }
        collect(Self.document)
        #expect(patterns.count >= 15)
        for pattern in patterns {
            #expect(pattern.firstMatch(of: /\\[sSwWdDbB]/) == nil, "\(pattern) uses a class escape engines disagree on")
        }
        let notOnlySpace = "[^\(Self.characterClass(where: TextInput.isSpace))]"
        #expect(patterns.filter { $0 == notOnlySpace }.count == 7, "names, about, group names: \(notOnlySpace)")
        let link = patterns.first { $0.hasPrefix("^[Hh][Tt][Tt][Pp]") } ?? ""
        let forbidden = Self.characterClass(where: ProfilePicture.isForbidden)
        #expect(link.contains("[^/?#\(forbidden)]+/[^?#\(forbidden)]*") && link.contains("([?#][^\(forbidden)]*)?$"), "\(link)")
    }

    /// The code points `member` holds, as a regular expression class's ranges in `\uXXXX`
    /// (every engine reads those the same way); members past U+FFFF are not expected.
    static func characterClass(where member: (Unicode.Scalar) -> Bool) -> String {
        let values = (0...0x10FFFF).compactMap(Unicode.Scalar.init).filter(member).map(\.value)
        var text = ""
        var index = 0
        while index < values.count {
            var end = index
            while end + 1 < values.count, values[end + 1] == values[end] + 1 { end += 1 }
            func escaped(_ value: UInt32) -> String {
                let hex = String(value, radix: 16)
                return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            }
            text += escaped(values[index])
            if end > index { text += (end == index + 1 ? "" : "-") + escaped(values[end]) }
            index = end + 1
        }
        return text
    }

    /// Every documented auth, profile, request and chat operation reaches a handler of the
    /// service behind its prefix: whatever it answers, it is not the router's "no route".
    @Test func everyDocumentedServiceRouteExists() async throws {
        try await Stack.run(chatReplicas: 1) { stack in
            let ada = try await stack.signup("Ada")
            let services: [String: any TestClientProtocol] = ["auth": stack.auth, "profile": stack.profile, "request": stack.request, "chat": stack.chats[0]]
            var checked = 0
            for (method, path) in Self.operations {
                let segments = path.split(separator: "/", maxSplits: 1)
                guard segments.count == 2 else { continue }
                // `/{service}/…` is on every service; other first segments are the gateway's own.
                let targets = segments[0] == "{service}" ? Array(services.keys) : services[String(segments[0])] == nil ? [] : [String(segments[0])]
                for service in targets {
                    let servicePath = "/" + segments[1].replacing(/\{\w+\}/) { _ in ObjectId().hex }
                    let response = try await services[service]!.execute(
                        uri: servicePath, method: HTTPRequest.Method(rawValue: method.uppercased())!, headers: ada.json, body: ByteBuffer(string: "{}"))
                    #expect(!["404 no_route", "405 method_not_allowed"].contains(outcome(response)),
                            "\(method.uppercased()) \(path) is documented but \(service) has no route \(servicePath)")
                    checked += 1
                }
            }
            #expect(checked >= 40)
            // The check can fail: an undocumented path is the router's 404.
            let missing = try await stack.profile.execute(uri: "/picture/a/b", method: .post, headers: ada.json, body: ByteBuffer(string: "{}"))
            #expect(outcome(missing) == "404 no_route")
            let otherMethod = try await stack.profile.execute(uri: "/getProfile", method: .post, headers: ada.json, body: ByteBuffer(string: "{}"))
            #expect(outcome(otherMethod) == "405 method_not_allowed", "and one with another method, 405")
        }
    }

    /// Every route auth, profile, request and chat register is documented under the
    /// service's gateway prefix (or as `/{service}/…`, on every service).
    @Test func everyServiceRouteIsDocumented() async throws {
        // Parameters by position, not name; Hummingbird drops a trailing slash.
        @Sendable func shape(_ path: String) -> String {
            var shaped = path.replacing(/\{\w+\}/) { _ in "{}" }
            if shaped.count > 1, shaped.hasSuffix("/") { shaped.removeLast() }
            return shaped
        }
        let documented = Set(Self.operations.map { "\($0.method.uppercased()) \(shape($0.path))" })
        try await Stack.run(chatReplicas: 1) { stack in
            var checked = 0
            for service in ["auth", "profile", "request", "chat"] {
                let routes = stack.routes.routes(of: service)
                #expect(routes.count >= 5, "\(service) recorded its routes")
                for route in routes {
                    let path = shape(route.path)
                    let known = documented.contains("\(route.method) /\(service)\(path)") || documented.contains("\(route.method) /{}\(path)")
                    #expect(known, "\(service) serves \(route) but openapi.json does not document /\(service)\(route.path)")
                    checked += 1
                }
            }
            #expect(checked >= 40)
        }
    }
}
