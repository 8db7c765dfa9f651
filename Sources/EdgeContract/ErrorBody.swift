import Foundation

/// DESIGN.md's error body as JSON bytes: `{"message": "...", "error": {"code": "...", "requestId": "..."}}`.
/// The services and the gateway write the same bytes.
public func errorBody(message: String, code: String, requestId: String) -> Data {
    struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let requestId: String
        }
        let message: String
        let error: Detail
    }
    return (try? JSONEncoder().encode(Body(message: message, error: .init(code: code, requestId: requestId)))) ?? Data()
}
