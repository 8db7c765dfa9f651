import BSON
import Foundation
import Hummingbird
import HummingbirdTesting
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

    /// Every documented auth, profile, request and chat operation reaches a handler of the
    /// service behind its prefix: whatever it answers, it is not the router's "no route".
    @Test func everyDocumentedServiceRouteExists() async throws {
        try await Stack.run(chatReplicas: 1) { stack in
            let ada = try await stack.signup("Ada")
            let services: [String: any TestClientProtocol] = ["auth": stack.auth, "profile": stack.profile, "request": stack.request, "chat": stack.chats[0]]
            var checked = 0
            for (method, path) in Self.operations {
                let segments = path.split(separator: "/", maxSplits: 1)
                guard segments.count == 2, let client = services[String(segments[0])] else { continue }  // the gateway's own
                let servicePath = "/" + segments[1].replacing(/\{\w+\}/) { _ in ObjectId().hex }
                let response = try await client.execute(
                    uri: servicePath, method: HTTPRequest.Method(rawValue: method.uppercased())!, headers: ada.json, body: ByteBuffer(string: "{}"))
                #expect(outcome(response) != "404 no_route", "\(method.uppercased()) \(path) is documented but \(servicePath) has no route")
                checked += 1
            }
            #expect(checked >= 29)
            // The check can fail: an undocumented path is the router's 404.
            let missing = try await stack.profile.execute(uri: "/picture", method: .post, headers: ada.json, body: ByteBuffer(string: "{}"))
            #expect(outcome(missing) == "404 no_route")
        }
    }
}
